//! `GET /openapi.json`: the API's OpenAPI 3.1 document, generated from the wire types and the
//! handlers' annotations.

use axum::http::header;
use axum::response::{IntoResponse, Response};

use utoipa::OpenApi;

/// The sidecar's OpenAPI document, generated from the wire types (their `ToSchema`) and the
/// handlers' `#[utoipa::path]` annotations; served at `GET /openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(title = "neotrav sidecar", description = "Graph traversals over a Neo4j snapshot, with APOC path-expander semantics."),
    paths(
        crate::routes::traverse,
        crate::routes::neighbors,
        crate::routes::shortest_path,
        crate::cypher::cypher,
        crate::cypher::query_v2,
        crate::routes::invalidate,
        crate::routes::snapshot,
        crate::routes::reload,
        crate::metrics::metrics,
        crate::routes::healthz,
        crate::routes::readyz,
        openapi
    ),
    // The traversal routes document their answers with an `IntoResponses` type, whose
    // schemas are not collected from the paths.
    components(schemas(neotrav_wire::TraverseResponse, neotrav_wire::cypher::CypherResponse)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

pub(crate) struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
    }
}

/// This API's OpenAPI document (no token needed).
#[utoipa::path(get, path = "/openapi.json", responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub(crate) async fn openapi() -> Response {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let doc = DOC.get_or_init(|| ApiDoc::openapi().to_pretty_json().unwrap_or_default());
    ([(header::CONTENT_TYPE, "application/json")], doc.as_str()).into_response()
}
