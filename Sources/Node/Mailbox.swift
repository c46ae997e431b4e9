import Foundation

/// The node loop's inbox: many producers (event loops, the signature pool, clients), one
/// consumer (the loop thread), first in first out.
///
/// Bounded by kind: `post` always accepts (clients' submissions, connection events, stop),
/// while `offer` — for peer messages, which can be lost and sent or fetched again (PBFT
/// retransmits, sync asks again, gossip is re-sent on connect) — is refused once
/// `maxOptional` such events wait, so a flood from peers cannot grow memory without bound.
final class Mailbox<Event>: @unchecked Sendable {
    private let condition = NSCondition()
    private var events: [(event: Event, optional: Bool)] = []
    private var head = 0
    private var optionalWaiting = 0
    private var closed = false
    let maxOptional: Int

    init(maxOptional: Int) { self.maxOptional = maxOptional }

    /// Queues an event the consumer must see; false (and not queued) once closed.
    @discardableResult
    func post(_ event: Event) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        events.append((event, false))
        condition.signal()
        return true
    }

    /// Queues an event that may be dropped; false when `maxOptional` are already waiting.
    func offer(_ event: Event) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed, optionalWaiting < maxOptional else { return false }
        optionalWaiting += 1
        events.append((event, true))
        condition.signal()
        return true
    }

    enum Taken {
        case event(Event)
        case timeout
        /// Closed, and nothing is left.
        case closed
    }

    /// The next event, waiting until `deadline` at most.
    func take(until deadline: Date) -> Taken {
        condition.lock()
        defer { condition.unlock() }
        while head == events.count {
            if closed { return .closed }
            if !condition.wait(until: deadline) {
                if head < events.count { break }
                return closed ? .closed : .timeout
            }
        }
        let e = events[head]
        head += 1
        if e.optional { optionalWaiting -= 1 }
        if head > 1024, head * 2 > events.count {
            events.removeFirst(head)
            head = 0
        }
        return .event(e.event)
    }

    /// Stops accepting; the consumer drains what is queued and then sees nil.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    var isClosed: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed
    }

}
