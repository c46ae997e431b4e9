import NIOCore

/// How much a message matters when a peer's send queue is full.
public enum PeerSendPriority: Sendable, Equatable {
    /// This node's own consensus messages (proposals, votes, view changes, checkpoints): dropping
    /// one silently would make the peer wait for a view change, so they are never dropped — a
    /// peer that cannot absorb them is closed instead (see `PeerSendQueue`).
    case critical
    /// Everything that can be lost and re-sent or re-fetched: relayed gossip, transactions,
    /// sync responses. The oldest goes first when the queue is full.
    case bulk
}

/// One outbound application message, as written to a peer channel.
public struct PeerOutboundMessage: Sendable {
    public let payload: ByteBuffer
    public let priority: PeerSendPriority

    public init(_ payload: ByteBuffer, priority: PeerSendPriority) {
        self.payload = payload
        self.priority = priority
    }
}

/// The bounds of one peer's send queue (STYLE.md: a limit on every queue).
public struct PeerSendLimits: Sendable, Equatable {
    /// Messages waiting for the socket to become writable, at most.
    public let maxQueuedMessages: Int
    /// Payload bytes waiting, at most. Must be at least the largest frame, so any legal message
    /// fits an empty queue.
    public let maxQueuedBytes: Int

    public init(maxQueuedMessages: Int = 1024, maxQueuedBytes: Int) {
        precondition(maxQueuedMessages > 0 && maxQueuedBytes > 0, "send queue limits must be positive")
        self.maxQueuedMessages = maxQueuedMessages
        self.maxQueuedBytes = maxQueuedBytes
    }

    /// The default for a chain: 1024 messages and four of its largest frames.
    public static func forFrames(maxFrameBytes: Int) -> PeerSendLimits {
        PeerSendLimits(maxQueuedMessages: 1024, maxQueuedBytes: 4 * maxFrameBytes)
    }
}

/// One peer's bounded outbound queue, as a pure value: messages wait here while the peer's
/// socket is not writable (NIO's high water mark), so a slow or dead peer costs a bounded amount
/// of memory and never blocks sends to other peers, each of which has its own queue.
///
/// Policy when a message does not fit (either bound), precisely:
/// 1. Evict queued `bulk` messages, oldest first, until it fits (their promises fail with
///    `droppedFromSendQueue`).
/// 2. If it still does not fit and it is `bulk`, it is dropped itself (the queue is unchanged).
/// 3. If it still does not fit and it is `critical`, the queue is full of critical messages the
///    peer has not taken: the peer is too slow to follow consensus. The outcome is `.overflow`
///    and the caller closes the connection; reconnection with backoff and block sync bring the
///    peer back. A critical message is never dropped from an open connection's queue.
///
/// Invariants: `count ≤ maxQueuedMessages`, `bytes ≤ maxQueuedBytes`, order among queued
/// messages is the order they were enqueued (eviction removes, never reorders).
public struct PeerSendQueue: Sendable {
    /// A queued message and the promise of the write that queued it.
    public struct Entry: Sendable {
        public let message: PeerOutboundMessage
        public let promise: EventLoopPromise<Void>?
        var bytes: Int { message.payload.readableBytes }

        public init(message: PeerOutboundMessage, promise: EventLoopPromise<Void>?) {
            self.message = message
            self.promise = promise
        }
    }

    /// What `enqueue` did.
    public enum Outcome: Sendable {
        /// Queued; `evicted` are older bulk messages removed to make room (oldest first).
        case queued(evicted: [Entry])
        /// The incoming bulk message was dropped (rule 2); the queue is unchanged.
        case droppedIncoming
        /// A critical message does not fit (rule 3): close the peer. The queue is unchanged.
        case overflow
        /// Larger than `maxQueuedBytes`, so larger than any legal frame: refused whatever its
        /// priority, and the peer is not to blame. The queue is unchanged.
        case tooLarge
    }

    public let limits: PeerSendLimits
    private(set) var entries: [Entry] = []
    /// Payload bytes queued.
    public private(set) var bytes = 0

    public init(limits: PeerSendLimits) { self.limits = limits }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    private func fits(_ extraBytes: Int, removing removed: Int = 0, removedBytes: Int = 0) -> Bool {
        entries.count - removed + 1 <= limits.maxQueuedMessages
            && bytes - removedBytes + extraBytes <= limits.maxQueuedBytes
    }

    /// Queues `entry` under the policy above.
    public mutating func enqueue(_ entry: Entry) -> Outcome {
        guard entry.bytes <= limits.maxQueuedBytes else { return .tooLarge }
        if fits(entry.bytes) {
            append(entry)
            return .queued(evicted: [])
        }
        // Which bulk entries (oldest first) must go for it to fit; decided before anything moves.
        var victims: [Int] = []
        var victimBytes = 0
        for (index, queued) in entries.enumerated() where queued.message.priority == .bulk {
            victims.append(index)
            victimBytes += queued.bytes
            if fits(entry.bytes, removing: victims.count, removedBytes: victimBytes) { break }
        }
        guard fits(entry.bytes, removing: victims.count, removedBytes: victimBytes) else {
            return entry.message.priority == .bulk ? .droppedIncoming : .overflow
        }
        let victimSet = Set(victims)
        var evicted: [Entry] = []
        var kept: [Entry] = []
        for (index, queued) in entries.enumerated() {
            if victimSet.contains(index) { evicted.append(queued) } else { kept.append(queued) }
        }
        entries = kept
        bytes -= victimBytes
        append(entry)
        return .queued(evicted: evicted)
    }

    private mutating func append(_ entry: Entry) {
        entries.append(entry)
        bytes += entry.bytes
    }

    /// Takes the oldest message, to write now.
    public mutating func popFirst() -> Entry? {
        guard !entries.isEmpty else { return nil }
        let first = entries.removeFirst()
        bytes -= first.bytes
        return first
    }

    /// Empties the queue (the connection closed), returning what was waiting.
    public mutating func removeAll() -> [Entry] {
        defer { entries = []; bytes = 0 }
        return entries
    }
}
