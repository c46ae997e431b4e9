import ChainTypes
import PBFT
import TradeFinance

/// The event trace of one run, folded into SHA-256 as it happens; its digest names the run.
/// Two runs of one seed and configuration — in one process or in two, on any machine with
/// the same build — must give the same digest (docs/PROTOCOL.md §14, the replay guarantee).
///
/// The trace is a sequence of events, each a tag byte, the tick, and canonical fields
/// (`CanonicalWriter`: uvarints, fixed hashes). A message is named by the SHA-256 of its
/// canonical bytes, made once per send. Events, in the order they happen:
/// - the header: format name, every `SimConfig` field;
/// - every replica start (boot, restart) and crash (with its cause), every crash point and
///   store failure armed, every partition and heal;
/// - every input a replica steps on: a delivered message (tick, sender, receiver, message
///   digest), a tick (clock, pending work), a built proposal, a synced block with its certificate;
/// - every action of every replica's driver, in the order it performs them (the
///   application reports persists, proposals built and commits; the shell, the messages
///   and sync requests the step returned, in their order);
/// - the end: ticks run and the checkers' failures, word for word.
///
/// Invariant: every byte fed in is a function of the configuration alone — never of hash
/// order, addresses or time — or the digest would not replay.
final class SimTrace {
    static let format = "hansa-sim-trace/2"
    /// Bytes gathered before they go to the hash, so that the stream sees few, large updates.
    static let bufferBytes = 1 << 16

    enum Tag: UInt8 {
        case header = 0x00, start = 0x01, crash = 0x02, partition = 0x03, heal = 0x04
        case armCrash = 0x05, armStoreFailure = 0x06
        case deliver = 0x10, tick = 0x11, proposal = 0x12, synced = 0x13
        case persist = 0x20, send = 0x21, broadcast = 0x22, buildProposal = 0x23, commit = 0x24, requestSync = 0x25
        case end = 0x30
    }

    private let stream = SHA256Stream()
    private var w = CanonicalWriter(capacity: SimTrace.bufferBytes + 4_096)

    init(_ config: SimConfig) {
        w.byte(Tag.header.rawValue)
        w.string(Self.format)
        w.uvarint(config.nodes)
        w.uvarint(config.byzantine)
        w.uvarint(config.seed)
        w.bool(config.realCrypto)
        w.bool(config.wireEncoding)
        w.uvarint(config.faultTicks)
        w.string(config.flawName)
        w.uvarint(config.submitIntervalTicks)
        w.optional(config.faultLevel) { w, level in w.uvarint(level.bitPattern) }
        w.string(config.scenario.rawValue)
        w.string(config.behaviour?.rawValue ?? "")
        w.string(config.ledger.rawValue)
        w.optional(config.letterOfCredit) { w, loc in w.hash(SHA256.hash(loc.compiled.bytecode)) }
    }

    private func begin(_ tag: Tag, tick: Int) {
        if w.bytes.count >= Self.bufferBytes {
            stream.update(w.bytes)
            w = CanonicalWriter(capacity: Self.bufferBytes + 4_096)
        }
        w.byte(tag.rawValue)
        w.uvarint(tick)
    }

    // MARK: Faults

    func start(tick: Int, node: Int) { begin(.start, tick: tick); w.uvarint(node) }

    /// Why a node went down.
    enum CrashCause: Equatable {
        /// The fault plan crashed it between steps.
        case plan
        /// Its store crashed at a write; `landed` says whether that batch reached the store.
        case atWrite(landed: Bool)
        /// It sent the first `k` messages of a step's output, then died.
        case afterSends(Int)
        /// Its store failed a write (or the driver stopped on its own): it restarts later.
        case storeFailure
    }

    func crash(tick: Int, node: Int, _ cause: CrashCause) {
        begin(.crash, tick: tick)
        w.uvarint(node)
        switch cause {
        case .plan: w.byte(0)
        case .atWrite(let landed): w.byte(1); w.bool(landed)
        case .afterSends(let k): w.byte(2); w.uvarint(k)
        case .storeFailure: w.byte(3)
        }
    }

    /// A crash armed at the store's `atWrite`-th write from now (`lands`: that batch lands).
    func armCrash(tick: Int, node: Int, atWrite: Int, lands: Bool) {
        begin(.armCrash, tick: tick); w.uvarint(node); w.byte(0); w.uvarint(atWrite); w.bool(lands)
    }

    /// A crash armed after the first `afterSends` messages of a step.
    func armCrash(tick: Int, node: Int, afterSends: Int) {
        begin(.armCrash, tick: tick); w.uvarint(node); w.byte(1); w.uvarint(afterSends)
    }

    func armStoreFailure(tick: Int, node: Int) { begin(.armStoreFailure, tick: tick); w.uvarint(node) }

    /// Groups are written sorted, each sorted: a `Set`'s own order is the hash order.
    func partition(tick: Int, _ groups: [Set<Int>]) {
        begin(.partition, tick: tick)
        let sorted = groups.map { $0.sorted() }.sorted { $0.lexicographicallyPrecedes($1) }
        w.uvarint(sorted.count)
        for group in sorted {
            w.uvarint(group.count)
            for i in group { w.uvarint(i) }
        }
    }

    func heal(tick: Int) { begin(.heal, tick: tick) }

    // MARK: Inputs

    func deliver(tick: Int, from: Int, to: Int, _ digest: Hash) {
        begin(.deliver, tick: tick)
        w.uvarint(from)
        w.uvarint(to)
        w.hash(digest)
    }

    func input(tick: Int, node: Int, _ input: ReplicaInput) {
        switch input {
        case .message:
            preconditionFailure("a delivered message is traced by deliver(), with its digest")
        case .tick(let now, let pending, let oldest):
            begin(.tick, tick: tick); w.uvarint(node); w.uvarint(now); w.bool(pending); w.optional(oldest) { $0.hash($1) }
        case .proposal(let block):
            begin(.proposal, tick: tick); w.uvarint(node); w.uvarint(block.header.height); w.hash(block.hash)
        case .synced(let block, let certificate):
            begin(.synced, tick: tick); w.uvarint(node); w.uvarint(block.header.height); w.hash(block.hash)
            w.value(certificate)
        }
    }

    // MARK: Actions

    /// `.send` and `.broadcast` are traced by `send`, which knows the message digest.
    func action(tick: Int, node: Int, _ action: ReplicaAction) {
        switch action {
        case .persist(let state):
            begin(.persist, tick: tick); w.uvarint(node); durable(state)
        case .send, .broadcast:
            preconditionFailure("a sent message is traced by send(), with its digest")
        case .buildProposal(let height, let view, let parent):
            begin(.buildProposal, tick: tick); w.uvarint(node); w.uvarint(height); w.uvarint(view)
            w.uvarint(parent.height); w.hash(parent.hash)
        case .commit(let block, let certificate):
            begin(.commit, tick: tick); w.uvarint(node); w.uvarint(block.header.height); w.hash(block.hash)
            w.value(certificate)
        case .requestSync(let fromHeight, let toHeight, let peers):
            begin(.requestSync, tick: tick); w.uvarint(node); w.uvarint(fromHeight); w.uvarint(toHeight)
            w.uvarint(peers.count)
            for p in peers { w.uvarint(p) }
        }
    }

    /// A `.send` (to a peer) or `.broadcast` (`to` nil) of the message with `digest`.
    func send(tick: Int, node: Int, to: Int?, _ digest: Hash) {
        if let to {
            begin(.send, tick: tick); w.uvarint(node); w.uvarint(to)
        } else {
            begin(.broadcast, tick: tick); w.uvarint(node)
        }
        w.hash(digest)
    }

    /// The durable state, by what identifies each part: signed messages by their signature
    /// (which covers their content, block hashes included), the prepared block by the
    /// certificate that names it. No block is hashed here: persists are frequent.
    private func durable(_ d: DurableState) {
        w.uvarint(d.view)
        w.bool(d.viewChanging)
        w.uvarint(d.lastSigned.count)
        for slot in d.lastSigned {
            w.byte(slot.kind.rawValue); w.uvarint(slot.view); w.uvarint(slot.height); w.hash(slot.hash)
        }
        w.optional(d.accepted) { w, pp in
            w.uvarint(pp.view); w.uvarint(pp.height); w.uvarint(Int(pp.proposerIndex)); w.signature(pp.signature)
        }
        w.optional(d.prepared) { w, p in w.value(p) }
        w.bool(d.preparedBlock != nil)
        w.optional(d.viewChange) { w, vc in w.uvarint(vc.newView); w.signature(vc.signature) }
    }

    // MARK: The end

    /// Closes the trace with the run's result and returns its digest; the trace is spent.
    func finish(tick: Int, failures: [String]) -> Hash {
        begin(.end, tick: tick)
        w.uvarint(failures.count)
        for f in failures { w.string(f) }
        stream.update(w.bytes)
        return stream.finish()
    }
}
