import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOPosix
import HansaTestSupport
import Testing
@testable import PeerTransport

/// `ReconnectBackoff` (pure, seeded) and `PeerDialer` on an `EmbeddedEventLoop` whose clock
/// moves only when the test advances it.
@Suite("Reconnection backoff")
struct ReconnectTests {
    static let policy = ReconnectBackoff.Policy(initialDelay: .milliseconds(100), maxDelay: .seconds(3),
                                                stableAfter: .seconds(20))

    static func delays(seed: UInt64, count: Int, policy: ReconnectBackoff.Policy = policy) -> [Int64] {
        var backoff = ReconnectBackoff(policy: policy)
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in backoff.nextDelay(using: &rng).nanoseconds / 1_000_000 }
    }

    @Test("the ceiling doubles from the initial delay and stops at the cap, without overflow")
    func ceilings() {
        let backoff = ReconnectBackoff(policy: Self.policy)
        let ms = (0..<8).map { backoff.ceiling(afterFailures: $0).nanoseconds / 1_000_000 }
        #expect(ms == [100, 200, 400, 800, 1_600, 3_000, 3_000, 3_000])
        #expect(backoff.ceiling(afterFailures: Int.max) == .seconds(3))
        let wide = ReconnectBackoff(policy: .init(initialDelay: .nanoseconds(1), maxDelay: .nanoseconds(.max)))
        #expect(wide.ceiling(afterFailures: 200) == .nanoseconds(.max))
    }

    @Test("each delay lies in [ceiling/2, ceiling]; after many failures never above the cap")
    func boundsAndCap() {
        var backoff = ReconnectBackoff(policy: Self.policy)
        var rng = SplitMix64(seed: 7)
        for failures in 0..<1_000 {
            let ceiling = backoff.ceiling(afterFailures: failures)
            let delay = backoff.nextDelay(using: &rng)
            #expect(delay <= ceiling && delay >= .nanoseconds(ceiling.nanoseconds - ceiling.nanoseconds / 2))
            #expect(delay <= Self.policy.maxDelay)
        }
        #expect(backoff.failures == 1_000)
    }

    @Test("one seed, one sequence (pinned); another seed, another sequence")
    func seededSequence() {
        let first = Self.delays(seed: 42, count: 8)
        #expect(first == Self.delays(seed: 42, count: 8))
        #expect(first != Self.delays(seed: 43, count: 8))
        // Regression pin for seed 42 (SplitMix64): changes only if the draw changes.
        #expect(first == Self.pinnedSeed42)
    }
    static let pinnedSeed42: [Int64] = [87, 115, 255, 537, 830, 2_802, 1_827, 2_700]

    @Test("the jitter spreads redials: the first delay differs across seeds")
    func jitterSpreads() {
        let firsts = Set((0..<64).map { Self.delays(seed: $0, count: 1)[0] })
        #expect(firsts.count > 10)
        #expect(firsts.allSatisfy { (50...100).contains($0) })
    }

    @Test("a stable connection resets the backoff; a short one does not")
    func resetOnlyWhenStable() {
        var backoff = ReconnectBackoff(policy: Self.policy)
        var rng = SplitMix64(seed: 1)
        for _ in 0..<4 { _ = backoff.nextDelay(using: &rng) }
        backoff.connectionEnded(lived: .milliseconds(19_999))
        #expect(backoff.failures == 4)
        backoff.connectionEnded(lived: .seconds(20))
        #expect(backoff.failures == 0)
    }

    // MARK: the dialer

    /// A dial that fails or hands out embedded channels, counting calls and their times.
    final class FakeDial: Sendable {
        let loop: EmbeddedEventLoop
        private let box = NIOLockedValueBox<(times: [NIODeadline], channels: [EmbeddedChannel], fail: Bool)>(([], [], true))
        init(loop: EmbeddedEventLoop) { self.loop = loop }

        var fail: Bool {
            get { box.withLockedValue { $0.fail } }
            set { box.withLockedValue { $0.fail = newValue } }
        }
        var times: [NIODeadline] { box.withLockedValue { $0.times } }
        var channels: [EmbeddedChannel] { box.withLockedValue { $0.channels } }

        var dial: @Sendable () -> EventLoopFuture<any Channel> {
            { [self] in
                let failing = box.withLockedValue { state in
                    state.times.append(loop.now)
                    return state.fail
                }
                if failing { return loop.makeFailedFuture(ChannelError.connectTimeout(.seconds(1))) }
                let channel = EmbeddedChannel(loop: loop)
                box.withLockedValue { $0.channels.append(channel) }
                return channel.connect(to: try! .init(ipAddress: "127.0.0.1", port: 1)).map { channel }
            }
        }
    }

    static func dialer(_ fake: FakeDial, seed: UInt64) -> PeerDialer<SplitMix64> {
        PeerDialer(eventLoop: fake.loop, policy: policy, rng: SplitMix64(seed: seed), logger: Fixture.logger, dial: fake.dial)
    }

    @Test("a failing dial is retried exactly at the policy's delays, not a nanosecond earlier")
    func retriesAtPolicyDelays() {
        let loop = EmbeddedEventLoop()
        let fake = FakeDial(loop: loop)
        let dialer = Self.dialer(fake, seed: 9)
        let start = loop.now
        dialer.start()
        var backoff = ReconnectBackoff(policy: Self.policy)
        var rng = SplitMix64(seed: 9)
        var expected = [start]
        for _ in 0..<7 {
            let delay = backoff.nextDelay(using: &rng)
            loop.advanceTime(by: delay - .nanoseconds(1))
            #expect(fake.times.count == expected.count)
            loop.advanceTime(by: .nanoseconds(1))
            expected.append(expected.last! + delay)
            #expect(fake.times == expected)
        }
        #expect(dialer.failures == fake.times.count)  // every attempt failed and counted
        dialer.stop()
    }

    @Test("a connection that closes quickly keeps backing off; one that stayed up resets")
    func closeAndRedial() throws {
        let loop = EmbeddedEventLoop()
        let fake = FakeDial(loop: loop)
        fake.fail = false
        let dialer = Self.dialer(fake, seed: 3)
        dialer.start()
        #expect(fake.channels.count == 1)
        for round in 1...3 {  // each lives 1 s: not stable
            loop.advanceTime(by: .seconds(1))
            try fake.channels.last!.close().wait()
            loop.run()  // the close callback
            #expect(dialer.failures == round)
            loop.advanceTime(by: Self.policy.maxDelay)
            #expect(fake.channels.count == round + 1)
        }
        loop.advanceTime(by: .seconds(20))
        try fake.channels.last!.close().wait()
        loop.run()
        #expect(dialer.failures == 1)  // reset by the stable connection, then this close counted
        dialer.stop()
    }

    @Test("stop cancels the pending retry and closes the connection; nothing is dialled after")
    func stopEnds() throws {
        let loop = EmbeddedEventLoop()
        let fake = FakeDial(loop: loop)
        let dialer = Self.dialer(fake, seed: 5)
        dialer.start()
        #expect(fake.times.count == 1)
        dialer.stop()
        loop.advanceTime(by: .hours(1))
        #expect(fake.times.count == 1)
        fake.fail = false
        dialer.start()
        #expect(fake.channels.count == 1 && fake.channels[0].isActive)
        dialer.stop()
        #expect(!fake.channels[0].isActive)
        loop.advanceTime(by: .hours(1))
        #expect(fake.times.count == 2)
    }

    @Test("over sockets: the dialer redials a peer that dropped it and authenticates again")
    func socketRedial() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let serverLog = EventLog(), clientLog = EventLog()
        let listener = try await PeerEndpoint(config: SocketTransportTests.config(Fixture.bob), group: group,
                                              onEvent: serverLog.record).listen(host: "127.0.0.1", port: 0)
        let port = try #require(listener.localAddress?.port)
        let alice = try PeerEndpoint(config: SocketTransportTests.config(Fixture.alice), group: group, onEvent: clientLog.record)
        let dialer = alice.dialer(host: "127.0.0.1", port: port, on: group.next(),
                                  policy: .init(initialDelay: .milliseconds(10), maxDelay: .milliseconds(50)),
                                  rng: SplitMix64(seed: 1))
        dialer.start()
        #expect(await clientLog.wait { $0.established.count == 1 })
        try await serverLog.establishedChannels[0].close()
        #expect(await clientLog.wait { $0.established.count == 2 })
        #expect(clientLog.established.allSatisfy { $0.nodeKey == Fixture.bob.nodeKey.publicKey })
        dialer.stop()
        for channel in serverLog.establishedChannels { try? await channel.close() }
        try await listener.close()
        try await group.shutdownGracefully()
    }
}
