import NIOCore
import NIOPosix

/// Free TCP ports on 127.0.0.1 for local networks (tests, `hansa bench network`).
public enum LoopbackPorts {
    /// `n` distinct ports free a moment ago on 127.0.0.1, drawn below the kernel's ephemeral
    /// range (32768 and up on Linux), so that no outgoing connection — a node's dialers make
    /// many — takes one before its node binds it. Each is bound once to check, then closed.
    public static func free(_ n: Int) throws(NodeError) -> [Int] {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        var channels: [any Channel] = []
        var tries = 0
        while channels.count < n {
            tries += 1
            guard tries < 10_000 else {
                throw .cannotListen(what: "a local network", address: "127.0.0.1:20000-31999", why: "no free port found")
            }
            if let c = try? ServerBootstrap(group: group).bind(host: "127.0.0.1", port: Int.random(in: 20_000..<32_000)).wait() {
                channels.append(c)
            }
        }
        let ports = channels.compactMap { $0.localAddress?.port }
        for c in channels { try? c.close().wait() }
        return ports
    }
}
