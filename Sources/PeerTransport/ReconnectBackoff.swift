import NIOCore

/// When to dial a peer again after a failed or lost connection: capped exponential backoff
/// with "equal jitter", as a pure value — the random generator is passed in (seeded in tests)
/// and time arrives as durations measured by the caller's clock (STYLE.md, habit 3).
///
/// After `n` consecutive failures the ceiling is `min(maxDelay, initialDelay · 2ⁿ)` and the
/// delay is drawn uniformly from `[ceiling − ⌊ceiling/2⌋, ceiling]` nanoseconds: never more than
/// `maxDelay`, never less than half the ceiling (so a dead peer is not redialled in a hot loop),
/// and spread so that nodes which lost the same peer at once do not redial it in lock step.
/// A connection that stayed open at least `stableAfter` resets the count; a shorter one (a peer
/// that accepts and then drops us) does not.
///
/// Invariants: `failures ≥ 0`; every delay is in `[initialDelay/2, maxDelay]`.
public struct ReconnectBackoff: Sendable, Equatable {
    /// The bounds of the backoff (STYLE.md: every loop has a named bound).
    public struct Policy: Sendable, Equatable {
        public let initialDelay: TimeAmount
        public let maxDelay: TimeAmount
        /// A connection open at least this long resets the backoff. Keep it above the handshake
        /// timeout, so only a connection that completed the handshake can reach it.
        public let stableAfter: TimeAmount

        public init(initialDelay: TimeAmount = .milliseconds(100), maxDelay: TimeAmount = .seconds(30),
                    stableAfter: TimeAmount = .seconds(30)) {
            precondition(initialDelay > .zero && initialDelay <= maxDelay, "need 0 < initialDelay ≤ maxDelay")
            precondition(stableAfter > .zero, "stableAfter must be positive")
            self.initialDelay = initialDelay
            self.maxDelay = maxDelay
            self.stableAfter = stableAfter
        }
    }

    public let policy: Policy
    /// Consecutive failures since the last stable connection.
    public private(set) var failures = 0

    public init(policy: Policy = Policy()) { self.policy = policy }

    /// The largest delay after `failures` consecutive failures: `min(maxDelay, initialDelay · 2ⁿ)`,
    /// computed without overflow for any `n`.
    public func ceiling(afterFailures failures: Int) -> TimeAmount {
        let cap = policy.maxDelay.nanoseconds
        var delay = policy.initialDelay.nanoseconds
        var doublings = 0
        while doublings < failures && delay < cap {
            delay = delay > cap / 2 ? cap : delay * 2
            doublings += 1
        }
        return .nanoseconds(min(delay, cap))
    }

    /// The delay before the next attempt; counts one more failure.
    public mutating func nextDelay(using rng: inout some RandomNumberGenerator) -> TimeAmount {
        let ceiling = ceiling(afterFailures: failures).nanoseconds
        let half = ceiling / 2
        if failures < Int.max { failures += 1 }
        return .nanoseconds(ceiling - half + Int64.random(in: 0...half, using: &rng))
    }

    /// A connection ended after being open for `lived`; a stable one resets the backoff.
    public mutating func connectionEnded(lived: TimeAmount) {
        if lived >= policy.stableAfter { failures = 0 }
    }
}
