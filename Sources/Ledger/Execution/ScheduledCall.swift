import ChainTypes

/// A contract call that a contract asked for (`ContractHost.scheduleCall`), to run at the
/// start of the first block whose time reaches `atMillis` (docs/LEDGER.md "Scheduled calls").
///
/// It lives twice, written in the same block batch: in the state under
/// `StateKey.scheduledCall(sequence)` (so the state root commits to it) and in the plain,
/// time-ordered index `s/ ‖ be64 at_millis ‖ be64 sequence` (so the executor finds the due
/// ones without walking the state), both holding these canonical bytes.
///
/// Invariant: `sequence` is unique over the chain's life (a committed counter), so
/// (`atMillis`, `sequence`) orders calls totally and `id` names one call.
public struct ScheduledCall: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 1
    /// The input one scheduled call may carry.
    public static let maxInputBytes = 4096
    /// Due calls run at the start of one block; the rest wait for the next block.
    public static let maxRunsPerBlock = 32
    /// Due calls of one contract that one block runs, so that one contract's backlog cannot
    /// hold back the deadlines of others; its further due calls wait, in order.
    public static let maxRunsPerContractPerBlock = 8
    /// Due index entries a block looks at to choose its calls (bounds the scan when a few
    /// contracts have long backlogs).
    public static let maxScannedPerBlock = 256
    /// Calls one contract run (one host) may schedule; `scheduleCall` answers false past it.
    public static let maxSchedulesPerRun = 16
    /// Calls one contract may have waiting at once; `scheduleCall` answers false past it.
    public static let maxPendingPerContract = 256

    public var atMillis: UInt64
    public var sequence: UInt64
    public var contract: Address
    public var input: [UInt8]

    public init(atMillis: UInt64, sequence: UInt64, contract: Address, input: [UInt8]) {
        precondition(input.count <= Self.maxInputBytes, "scheduled input above its limit")
        self.atMillis = atMillis; self.sequence = sequence; self.contract = contract; self.input = input
    }

    /// What the call's receipt carries as its `transaction_hash`:
    /// SHA-256(string("hansa/scheduled/v1") ‖ uvarint sequence ‖ contract).
    public var id: Hash { Self.id(sequence: sequence, contract: contract) }

    public static func id(sequence: UInt64, contract: Address) -> Hash {
        var w = CanonicalWriter(capacity: 48)
        w.string("hansa/scheduled/v1")
        w.uvarint(sequence)
        w.address(contract)
        return SHA256.hash(w.bytes)
    }

    public func encode(to w: inout CanonicalWriter) {
        w.byte(Self.version)
        w.uvarint(atMillis)
        w.uvarint(sequence)
        w.address(contract)
        w.lengthPrefixed(input)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        try r.version(Self.version)
        atMillis = try r.uvarint("at_ms")
        sequence = try r.uvarint("sequence")
        contract = try r.address("contract")
        input = try r.lengthPrefixed("input", limit: Self.maxInputBytes)
    }

    /// The calls a block at `timeMillis` runs: in (time, sequence) order among the first
    /// `maxScannedPerBlock` due ones, at most `maxRunsPerContractPerBlock` per contract and
    /// `maxRunsPerBlock` in all.
    static func due(in store: any KeyValueStore, byMillis timeMillis: UInt64) throws(LedgerError) -> [ScheduledCall] {
        var perContract: [Address: Int] = [:]
        var chosen: [ScheduledCall] = []
        for call in try indexed(in: store, dueByMillis: timeMillis, limit: maxScannedPerBlock) {
            guard perContract[call.contract, default: 0] < maxRunsPerContractPerBlock else { continue }
            perContract[call.contract, default: 0] += 1
            chosen.append(call)
            if chosen.count == maxRunsPerBlock { break }
        }
        return chosen
    }

    /// Calls in the index, in (time, sequence) order: those due by `dueByMillis` (all if nil),
    /// at most `limit`. An index entry whose key and value disagree is corruption.
    static func indexed(in store: any KeyValueStore, dueByMillis: UInt64?, limit: Int) throws(LedgerError) -> [ScheduledCall] {
        guard limit > 0 else { return [] }
        var raw: [([UInt8], [UInt8])] = []
        let prefix = Ledger.Keys.scheduleIndexPrefix
        do {
            try store.scan(prefix: prefix, from: nil) { key, value in
                // Keys sort by time first, so the first one past the block's time ends the scan.
                if let due = dueByMillis, key.count == prefix.count + 16,
                   Ledger.Keys.readBE64(key[prefix.count..<prefix.count + 8]) > due { return false }
                raw.append((key, value))
                return raw.count < limit
            }
        } catch {
            throw .store(error)
        }
        var calls: [ScheduledCall] = []
        for (key, value) in raw {
            guard key.count == prefix.count + 16 else { throw .corrupted("scheduled-call index key of \(key.count) bytes") }
            let call: ScheduledCall
            do { call = try ScheduledCall(canonicalBytes: value) } catch { throw .corrupted("scheduled-call index entry: \(error)") }
            guard Ledger.Keys.scheduleIndex(atMillis: call.atMillis, sequence: call.sequence) == key else {
                throw .corrupted("scheduled call \(call.sequence) is filed under another time or sequence in the index")
            }
            calls.append(call)
        }
        return calls
    }
}

extension StateKey {
    /// A scheduled call: "schd" ‖ be64 sequence.
    public static func scheduledCall(_ sequence: UInt64) -> [UInt8] { Array("schd".utf8) + Ledger.Keys.be64(sequence) }
    /// The sequence number the next scheduled call gets (be64; absent = 0).
    public static let scheduleSequence = Array("schn".utf8)
    /// How many calls a contract has waiting: "schc" ‖ address (be64; absent = 0).
    public static func scheduledCount(_ contract: Address) -> [UInt8] { Array("schc".utf8) + contract.bytes }
}

// Adding and removing scheduled calls: state entry, index entry and counters change together.
extension StateOverlay {
    func counter(_ key: [UInt8], _ what: String) throws(LedgerError) -> UInt64 {
        let bytes: [UInt8]?
        do { bytes = try get(key) } catch { throw .store(error) }
        guard let bytes else { return 0 }
        guard bytes.count == 8 else { throw .corrupted("\(what) has \(bytes.count) bytes, not 8") }
        return Ledger.Keys.readBE64(bytes[...])
    }

    /// Records a call; nil when `contract` already has `maxPendingPerContract` calls waiting.
    /// The caller checks the input size and the time.
    func addScheduledCall(contract: Address, atMillis: UInt64, input: [UInt8]) throws(LedgerError) -> ScheduledCall? {
        let waiting = try counter(StateKey.scheduledCount(contract), "the scheduled-call count of \(contract)")
        guard waiting < UInt64(ScheduledCall.maxPendingPerContract) else { return nil }
        let sequence = try counter(StateKey.scheduleSequence, "the scheduled-call sequence")
        guard sequence < .max else { return nil }
        let call = ScheduledCall(atMillis: atMillis, sequence: sequence, contract: contract, input: input)
        let bytes = call.canonicalBytes
        set(StateKey.scheduleSequence, Ledger.Keys.be64(sequence + 1))
        set(StateKey.scheduledCount(contract), Ledger.Keys.be64(waiting + 1))
        set(StateKey.scheduledCall(sequence), bytes)
        setIndex(Ledger.Keys.scheduleIndex(atMillis: atMillis, sequence: sequence), bytes)
        return call
    }

    /// Deletes a call found in the index from the state and the index; the state must hold
    /// exactly that call (anything else is corruption).
    func removeScheduledCall(_ call: ScheduledCall) throws(LedgerError) {
        let key = StateKey.scheduledCall(call.sequence)
        let stored: [UInt8]?
        do { stored = try get(key) } catch { throw .store(error) }
        guard stored == call.canonicalBytes else {
            throw .corrupted("scheduled call \(call.sequence) in the index is \(stored == nil ? "missing from" : "different in") the state")
        }
        let countKey = StateKey.scheduledCount(call.contract)
        let waiting = try counter(countKey, "the scheduled-call count of \(call.contract)")
        guard waiting > 0 else { throw .corrupted("\(call.contract) has a scheduled call but a count of 0") }
        set(countKey, waiting == 1 ? nil : Ledger.Keys.be64(waiting - 1))
        set(key, nil)
        setIndex(Ledger.Keys.scheduleIndex(atMillis: call.atMillis, sequence: call.sequence), nil)
    }
}
