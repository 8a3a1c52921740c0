// a comment
MATCH (n) /* ( [ { */ RETURN n.key // )
LIMIT 2