import NIOCore
import Testing
@testable import PeerTransport

/// `PeerSendQueue` as a pure value: both bounds and the full-queue policy, rule by rule.
@Suite("Peer send queue (pure)")
struct SendQueueTests {
    static func entry(_ tag: UInt8, _ priority: PeerSendPriority, bytes: Int = 1) -> PeerSendQueue.Entry {
        .init(message: PeerOutboundMessage(ByteBuffer(repeating: tag, count: bytes), priority: priority), promise: nil)
    }

    /// The first byte of every queued message, oldest first.
    static func tags(_ queue: PeerSendQueue) -> [UInt8] { queue.entries.map { $0.message.payload.getInteger(at: 0)! } }
    static func tags(_ entries: [PeerSendQueue.Entry]) -> [UInt8] { entries.map { $0.message.payload.getInteger(at: 0)! } }

    static func queue(messages: Int = 4, bytes: Int = 64, _ contents: [(UInt8, PeerSendPriority)]) -> PeerSendQueue {
        var queue = PeerSendQueue(limits: PeerSendLimits(maxQueuedMessages: messages, maxQueuedBytes: bytes))
        for (tag, priority) in contents {
            guard case .queued(let evicted) = queue.enqueue(entry(tag, priority)), evicted.isEmpty else {
                preconditionFailure("fixture queue overflowed")
            }
        }
        return queue
    }

    @Test("under the bounds every message is queued and leaves in order")
    func order() {
        var queue = Self.queue([(1, .critical), (2, .bulk), (3, .critical)])
        #expect(queue.count == 3 && queue.bytes == 3)
        #expect(queue.popFirst().map { Self.tags([$0]) } == [1])
        #expect(Self.tags(queue) == [2, 3])
        #expect(queue.bytes == 2)
    }

    @Test("rule 1: a message that does not fit evicts the oldest bulk message, never a critical one")
    func evictsOldestBulk() {
        var queue = Self.queue([(1, .critical), (2, .bulk), (3, .critical), (4, .bulk)])
        guard case .queued(let evicted) = queue.enqueue(Self.entry(5, .critical)) else {
            Issue.record("expected the message to be queued")
            return
        }
        #expect(Self.tags(evicted) == [2])
        #expect(Self.tags(queue) == [1, 3, 4, 5])
        guard case .queued(let second) = queue.enqueue(Self.entry(6, .bulk)) else {
            Issue.record("expected the bulk message to be queued")
            return
        }
        #expect(Self.tags(second) == [4])
        #expect(Self.tags(queue) == [1, 3, 5, 6])
    }

    @Test("rule 1 by bytes: as many oldest bulk messages go as the new message needs")
    func evictsByBytes() {
        var queue = PeerSendQueue(limits: PeerSendLimits(maxQueuedMessages: 10, maxQueuedBytes: 10))
        for (tag, priority) in [(UInt8(1), PeerSendPriority.bulk), (2, .critical), (3, .bulk), (4, .bulk)] {
            _ = queue.enqueue(Self.entry(tag, priority, bytes: 2))
        }
        #expect(queue.bytes == 8)
        guard case .queued(let evicted) = queue.enqueue(Self.entry(5, .critical, bytes: 5)) else {
            Issue.record("expected the message to be queued")
            return
        }
        #expect(Self.tags(evicted) == [1, 3])
        #expect(Self.tags(queue) == [2, 4, 5])
        #expect(queue.bytes == 9)
    }

    @Test("rule 2: a bulk message that cannot make room is dropped itself; the queue is unchanged")
    func dropsIncomingBulk() {
        var queue = Self.queue([(1, .critical), (2, .critical), (3, .critical), (4, .critical)])
        guard case .droppedIncoming = queue.enqueue(Self.entry(5, .bulk)) else {
            Issue.record("expected the incoming bulk message to be dropped")
            return
        }
        #expect(Self.tags(queue) == [1, 2, 3, 4])
    }

    @Test("rule 3: a critical message that cannot make room is an overflow; nothing is dropped")
    func criticalOverflow() {
        var queue = Self.queue([(1, .critical), (2, .critical), (3, .critical), (4, .critical)])
        guard case .overflow = queue.enqueue(Self.entry(5, .critical)) else {
            Issue.record("expected an overflow")
            return
        }
        #expect(Self.tags(queue) == [1, 2, 3, 4])
        #expect(queue.count == 4)
    }

    @Test("a message larger than the byte bound is refused even from an empty queue")
    func tooLarge() {
        var queue = PeerSendQueue(limits: PeerSendLimits(maxQueuedMessages: 4, maxQueuedBytes: 8))
        guard case .tooLarge = queue.enqueue(Self.entry(1, .critical, bytes: 9)) else {
            Issue.record("expected tooLarge")
            return
        }
        #expect(queue.isEmpty)
        guard case .queued = queue.enqueue(Self.entry(2, .critical, bytes: 8)) else {
            Issue.record("exactly the bound must fit")
            return
        }
    }
}
