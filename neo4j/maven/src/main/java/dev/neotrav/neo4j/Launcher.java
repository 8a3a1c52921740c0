package dev.neotrav.neo4j;

import org.neo4j.server.CommunityEntryPoint;

/**
 * Starts the Neo4j Community server exactly as the stock launcher does
 * ({@link CommunityEntryPoint}), with one addition for test runs: when the system property
 * {@code neotrav.parent.pid} is set, the JVM halts as soon as that process exits. The test kit
 * uses it so that no JVM outlives the test process that started it, however that process ends
 * (success, panic, SIGKILL).
 *
 * <p>Without the property this is a plain pass-through, which is what {@code neotrav neo4j start}
 * uses: that server is meant to keep running after the CLI returns.
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) {
        String parent = System.getProperty("neotrav.parent.pid");
        if (parent != null && !parent.isEmpty()) {
            long pid = Long.parseLong(parent);
            var handle = ProcessHandle.of(pid);
            if (handle.isEmpty()) {
                // The parent is already gone: nothing would ever stop this server.
                Runtime.getRuntime().halt(3);
            }
            handle.get().onExit().thenRun(() -> {
                // Test data is throwaway; halting skips the clean shutdown so that the JVM is
                // gone the moment the test process is.
                Runtime.getRuntime().halt(0);
            });
        }
        CommunityEntryPoint.main(args);
    }
}
