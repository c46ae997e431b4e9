import Logging
import NIOCore

/// Keeps one outbound connection to one peer: dials, and whenever the dial fails or the
/// connection closes, dials again after `ReconnectBackoff`'s delay, until `stop()`.
///
/// Time is the dialer's event loop (its `now` and `scheduleTask`, so an `EmbeddedEventLoop`
/// advanced by hand in tests); randomness is the generator passed in. The dialer sees only the
/// channel's lifetime: a connection open `stableAfter` or longer resets the backoff, and since a
/// connection that has not completed the handshake is closed at the handshake timeout (which
/// must be shorter), only an authenticated one can. All state lives on the event loop.
///
/// Invariants: at most one dial or connection at a time; nothing is dialled after `stop()`.
public final class PeerDialer<RNG: RandomNumberGenerator & Sendable>: Sendable {
    public let eventLoop: any EventLoop
    private let dial: @Sendable () -> EventLoopFuture<any Channel>
    private let logger: Logger
    private let state: NIOLoopBoundBox<State>

    struct State: Sendable {
        var backoff: ReconnectBackoff
        var rng: RNG
        var running = false
        var channel: (any Channel)?
        var retry: Scheduled<Void>?
    }

    /// - Parameter dial: opens one connection (e.g. `PeerEndpoint.connect`); called on `eventLoop`.
    public init(eventLoop: any EventLoop, policy: ReconnectBackoff.Policy, rng: RNG, logger: Logger,
                dial: @escaping @Sendable () -> EventLoopFuture<any Channel>) {
        self.eventLoop = eventLoop
        self.dial = dial
        self.logger = logger
        // Made off the loop is fine: the value is Sendable and only the loop touches it after.
        self.state = .makeBoxSendingValue(State(backoff: ReconnectBackoff(policy: policy), rng: rng), eventLoop: eventLoop)
    }

    /// Starts dialling now (idempotent).
    public func start() {
        onLoop {
            guard !self.state.value.running else { return }
            self.state.value.running = true
            self.attempt()
        }
    }

    /// Stops: cancels a pending retry and closes the current connection; nothing is dialled after.
    public func stop() {
        onLoop {
            self.state.value.running = false
            self.state.value.retry?.cancel()
            self.state.value.retry = nil
            self.state.value.channel?.close(promise: nil)
        }
    }

    /// Consecutive failures so far (read it on the event loop).
    public var failures: Int { state.value.backoff.failures }

    private func onLoop(_ work: @escaping @Sendable () -> Void) {
        if eventLoop.inEventLoop { work() } else { eventLoop.execute(work) }
    }

    private func attempt() {
        state.value.retry = nil
        guard state.value.running else { return }
        dial().hop(to: eventLoop).whenComplete { result in
            switch result {
            case .success(let channel):
                guard self.state.value.running else {
                    channel.close(promise: nil)
                    return
                }
                self.state.value.channel = channel
                let openedAt = self.eventLoop.now
                channel.closeFuture.hop(to: self.eventLoop).whenComplete { _ in self.closed(openedAt: openedAt) }
            case .failure(let error):
                self.logger.info("dial failed", metadata: ["reason": "\(error)"])
                self.scheduleRetry()
            }
        }
    }

    private func closed(openedAt: NIODeadline) {
        state.value.channel = nil
        state.value.backoff.connectionEnded(lived: eventLoop.now - openedAt)
        scheduleRetry()
    }

    private func scheduleRetry() {
        guard state.value.running else { return }
        var current = state.value
        let delay = current.backoff.nextDelay(using: &current.rng)
        current.retry = eventLoop.scheduleTask(in: delay) { self.attempt() }
        state.value = current
        logger.debug("redialling", metadata: ["in_ms": "\(delay.nanoseconds / 1_000_000)",
                                               "failures": "\(current.backoff.failures)"])
    }
}
