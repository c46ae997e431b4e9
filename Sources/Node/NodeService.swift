import ServiceLifecycle

/// The node as a swift-service-lifecycle `Service`: it runs until the node loop ends. On
/// graceful shutdown (SIGTERM or SIGINT through the `ServiceGroup`) it asks the loop to stop —
/// the event in hand finishes whole, the ledger's last batch is already synced, LevelDB
/// closes — then closes the network. A node that failed (a driver or store fault) ends the
/// service with its error, so the process exits non-zero and a supervisor restarts it.
public struct NodeService: Service {
    public let runtime: NodeRuntime

    public init(runtime: NodeRuntime) { self.runtime = runtime }

    public func run() async throws {
        let runtime = runtime
        let failure = await withGracefulShutdownHandler {
            await runtime.finished()
        } onGracefulShutdown: {
            runtime.requestStop()
        }
        await runtime.stop()
        if let failure { throw failure }
    }
}
