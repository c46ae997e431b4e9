import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A TCP proxy on 127.0.0.1 that injects network faults into one directed link between two
/// nodes (`hansa dev chaos`): each validator dials each peer through its own proxy (config.toml
/// `[p2p.dial]`), so a partition, a delay or losses can be set per pair. Bytes pass through
/// unchanged — TLS and the signed handshake run end to end — only late, or not at all:
///
/// - `blocked`: live connections are closed and new ones are closed at once (a partition);
/// - `delayMillis` + up to `jitterMillis`: every chunk waits that long, in order (latency);
/// - `stallChance`, `stallMillis`: a chunk now and then waits `stallMillis` more, holding up the
///   ones behind it, as TCP does while it retransmits a lost segment (losses).
final class FaultProxy: @unchecked Sendable {
    struct Faults: Equatable, Sendable {
        var blocked = false
        var delayMillis = 0
        var jitterMillis = 0
        var stallChance = 0.0
        var stallMillis = 0
        static let none = Faults()
    }

    let port: Int
    let targetPort: Int
    private let faults = NIOLockedValueBox(Faults())
    private let live = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
    private var server: (any Channel)?
    private let group: any EventLoopGroup

    init(group: any EventLoopGroup, port: Int, targetPort: Int) {
        self.group = group
        self.port = port
        self.targetPort = targetPort
    }

    func start() async throws {
        let faults = faults, live = live, target = targetPort
        server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                guard !faults.withLockedValue({ $0.blocked }) else { return inbound.close() }
                let id = ObjectIdentifier(inbound)
                live.withLockedValue { $0[id] = inbound }
                inbound.closeFuture.whenComplete { _ in _ = live.withLockedValue { $0.removeValue(forKey: id) } }
                let toTarget = Relay(faults: faults), toSource = Relay(faults: faults)
                return ClientBootstrap(group: inbound.eventLoop)
                    .channelInitializer { $0.pipeline.addHandler(toSource) }
                    .connect(host: "127.0.0.1", port: target)
                    .flatMap { outbound in
                        toTarget.partner = outbound
                        toSource.partner = inbound
                        return inbound.pipeline.addHandler(toTarget).map { inbound.read() }
                    }
                    .flatMapErrorThrowing { error in inbound.close(promise: nil); throw error }
            }
            .bind(host: "127.0.0.1", port: port).get()
    }

    func set(_ f: Faults) {
        faults.withLockedValue { $0 = f }
        if f.blocked { for c in live.withLockedValue({ Array($0.values) }) { c.close(promise: nil) } }
    }

    func stop() {
        set(Faults(blocked: true))
        try? server?.close().wait()
    }

    /// Forwards what one side reads to the other, late by the link's faults, in order.
    private final class Relay: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let faults: NIOLockedValueBox<Faults>
        var partner: (any Channel)?
        private var lastRelease = NIODeadline.uptimeNanoseconds(0)

        init(faults: NIOLockedValueBox<Faults>) { self.faults = faults }

        func channelActive(context: ChannelHandlerContext) {
            context.read()
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            guard let partner else { return }
            let f = faults.withLockedValue { $0 }
            if f.blocked {
                context.close(promise: nil)
                return
            }
            var wait = f.delayMillis + (f.jitterMillis > 0 ? Int.random(in: 0...f.jitterMillis) : 0)
            if f.stallChance > 0, Double.random(in: 0..<1) < f.stallChance { wait += f.stallMillis }
            let release = max(NIODeadline.now() + .milliseconds(Int64(wait)), lastRelease)
            lastRelease = release
            if release <= NIODeadline.now() {
                partner.writeAndFlush(buffer, promise: nil)
            } else {
                context.eventLoop.scheduleTask(deadline: release) { partner.writeAndFlush(buffer, promise: nil) }
            }
            context.read()
        }

        func channelReadComplete(context: ChannelHandlerContext) {}

        func channelInactive(context: ChannelHandlerContext) {
            // Whatever is still scheduled goes first, then the other side closes too.
            let partner = partner
            context.eventLoop.scheduleTask(deadline: max(lastRelease, .now())) { partner?.close(promise: nil) }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
