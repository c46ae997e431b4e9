import ChainTypes
import Foundation
import HansaCrypto
import Ledger
import NIOConcurrencyHelpers

/// Every read of a contract's details through this node — who, what, when, allowed or
/// refused — as a hash chain: each entry's hash covers the previous entry's hash, so an entry
/// changed, removed or reordered afterwards breaks every hash after it (docs/RPC.md "The
/// access log"). Kept in a file of JSON lines (`access.log` in the node's home), read back
/// and checked at start; auditors and regulators read it with `access.log`.
///
/// Invariant: `entries[i].hash == SHA-256(entries[i-1].hash ‖ canonical JSON of entry i without "hash")`,
/// with 32 zero bytes before the first.
public final class AccessLog: Sendable {
    public struct Entry: Sendable, Equatable {
        public let json: JSONObject
        public var hash: Hash { Hash(hex: json["hash"]?.stringValue ?? "") ?? .zero }
    }

    /// Entries kept in memory for `access.log` (the file keeps all of them).
    public static let maxEntriesInMemory = 100_000

    private struct State {
        var entries: [Entry] = []
        var first: UInt64 = 0
        var count: UInt64 = 0
        var last: Hash = .zero
        var file: FileHandle?
    }
    private let state: NIOLockedValueBox<State>
    public let path: String?
    let node: String

    /// A log in memory only (tests).
    public init(node: String) {
        self.node = node
        self.path = nil
        self.state = NIOLockedValueBox(State())
    }

    /// Opens (or creates) the log at `path` and checks its chain. A broken chain is an error
    /// naming the first bad line: the node must not append to a log it cannot vouch for.
    public init(path: String, node: String) throws(AccessLogError) {
        self.node = node
        self.path = path
        var st = State()
        if FileManager.default.fileExists(atPath: path) {
            guard var data = FileManager.default.contents(atPath: path) else { throw AccessLogError("cannot read \(path)") }
            // A crash in the middle of an append leaves a last line without its newline: that
            // entry was never complete, so it is cut off (and the file truncated) — not a tamper.
            if let last = data.last, last != UInt8(ascii: "\n") {
                let cut = (data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? data.startIndex
                if (try? JSON.parse(data[cut...])) == nil {
                    data = data.prefix(upTo: cut)
                    guard let h = FileHandle(forWritingAtPath: path) else { throw AccessLogError("cannot open \(path) to cut its incomplete last line") }
                    h.truncateFile(atOffset: UInt64(data.count))
                    h.closeFile()
                }
            }
            for (i, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
                guard let j = try? JSON.parse(line), let o = j.objectValue else { throw AccessLogError("\(path) line \(i + 1) is not a JSON object") }
                guard Self.hash(of: o, previous: st.last) == Hash(hex: o["hash"]?.stringValue ?? ""),
                      o["seq"]?.integer(UInt64.self) == st.count else {
                    throw AccessLogError("\(path) line \(i + 1) breaks the hash chain: the log was changed after it was written")
                }
                st.last = Hash(hex: o["hash"]!.stringValue!)!
                st.count += 1
                st.entries.append(Entry(json: o))
                if st.entries.count > Self.maxEntriesInMemory { st.entries.removeFirst(st.entries.count / 2); st.first = st.count - UInt64(st.entries.count) }
            }
        } else {
            guard FileManager.default.createFile(atPath: path, contents: nil) else { throw AccessLogError("cannot create \(path)") }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw AccessLogError("cannot open \(path) for appending") }
        handle.seekToEndOfFile()
        st.file = handle
        self.state = NIOLockedValueBox(st)
    }

    static func hash(of entry: JSONObject, previous: Hash) -> Hash {
        var copy = entry
        copy["hash"] = nil
        return SHA256.hash(previous.bytes + Array(ReadRequest.sorted(.object(copy)).serialized().utf8))
    }

    /// Appends one read. `reader` is nil for an anonymous (unsigned) request.
    func append(reader: Address?, role: Role?, method: String, subject: String, remote: String, allowed: Bool, nowMillis: Int64) {
        state.withLockedValue { st in
            var o: JSONObject = [
                "seq": .int(st.count), "time": .string(Format.time(UInt64(max(0, nowMillis)))),
                "reader": reader.map { .string($0.text) } ?? .null, "role": role.map { .string($0.name) } ?? .null,
                "method": .string(method), "subject": .string(subject), "node": .string(node), "remote": .string(remote),
                "allowed": .bool(allowed), "previous_hash": .string(st.last.hex),
            ]
            let h = Self.hash(of: o, previous: st.last)
            o["hash"] = .string(h.hex)
            st.last = h
            st.count += 1
            st.entries.append(Entry(json: o))
            if st.entries.count > Self.maxEntriesInMemory {
                st.entries.removeFirst(st.entries.count / 2)
                st.first = st.count - UInt64(st.entries.count)
            }
            st.file?.write(Data((JSON.object(o).serialized() + "\n").utf8))
        }
    }

    /// Entries from sequence number `from`, at most `limit`; and the log's length and head hash.
    public func entries(from: UInt64, limit: Int) -> (entries: [Entry], count: UInt64, head: Hash, firstInMemory: UInt64) {
        state.withLockedValue { st in
            let start = max(from, st.first)
            guard start < st.count else { return ([], st.count, st.last, st.first) }
            let i = Int(start - st.first)
            return (Array(st.entries[i..<min(st.entries.count, i + limit)]), st.count, st.last, st.first)
        }
    }

    public func close() { state.withLockedValue { st in try? st.file?.close(); st.file = nil } }
}

public struct AccessLogError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}

extension HansaRPC {
    /// Checks that `reader` may read the contract's details and writes the read — allowed or
    /// refused — to the access log.
    func authorizeContractRead(_ reader: Reader, _ call: RPCCall, _ contract: Address, _ s: LedgerSnapshot) throws(RPCError) {
        let allowed = reader.mayReadContract(contract, s)
        accessLog.append(reader: reader.address, role: reader.role, method: call.method, subject: contract.text, remote: call.remote,
                         allowed: allowed, nowMillis: nowMillis())
        guard allowed else { throw reader.refusal("contract \(contract)") }
    }

    /// Checks that `reader` may read `tx`; a transaction that deploys or calls a contract is
    /// one of its details, so that read goes to the access log, allowed or refused.
    func authorizeTransactionRead(_ reader: Reader, _ call: RPCCall, _ tx: Transaction, _ s: LedgerSnapshot, what: String) throws(RPCError) {
        let allowed = reader.mayRead(tx, s)
        if let contract = Reader.contract(of: tx) {
            accessLog.append(reader: reader.address, role: reader.role, method: call.method, subject: contract.text, remote: call.remote,
                             allowed: allowed, nowMillis: nowMillis())
        }
        guard allowed else { throw reader.refusal(what) }
    }

    func accessMethods() -> [RPCMethod] {
        [
            RPCMethod("access.log", "The access log of this node (auditors and regulators): every read of a contract's details, hash-chained.",
                      params: [RPCParam("from", required: false, "first sequence number (default 0)", schema: Schema.uint64),
                               RPCParam("limit", required: false, "most entries (default 100)",
                                        schema: Schema.integer("entries", minimum: 1, maximum: limits.maxPageItems)),
                               authParam],
                      result: "log", schema: Schema.object("entries, count, head_hash")) { [self] call throws(RPCError) in
                let s = try snapshot()
                let reader = try reader(call, s)
                guard reader.seesEverything else {
                    throw .readNotAllowed("the access log is for auditors and regulators; sign the request (auth) as one")
                }
                let from = try call.params.uint64("from") ?? 0
                let limit = try call.params.int("limit", in: 1...limits.maxPageItems) ?? 100
                let page = accessLog.entries(from: from, limit: limit)
                return .object(["entries": .array(page.entries.map { .object($0.json) }), "count": .string(String(page.count)),
                                "head_hash": .string(page.head.hex), "first_in_memory": .string(String(page.firstInMemory))])
            },
        ]
    }
}
