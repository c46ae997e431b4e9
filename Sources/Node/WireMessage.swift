import ChainTypes
import PBFT

/// What nodes say to each other inside the transport's authenticated `message` frames
/// (docs/PROTOCOL.md §17 "Peer messages"): a kind byte, then the body in the canonical
/// encoding. Every list has a named bound, and a frame never holds more than the transport's
/// `maxFrameBytes` (genesis `max_block_bytes` + 64 KiB), so a sync answer is cut to fit.
///
/// Who may send what is checked by the node, not here: consensus messages only between
/// validators, committed blocks only from validators.
public enum WireMessage: Equatable, Sendable {
    /// A PBFT message (Castro & Liskov 1999, §4) between validators.
    case consensus(ConsensusMessage)
    /// Signed transactions being gossiped; at most `maxGossipTransactions`.
    case transactions([Transaction])
    /// The sender's committed head: a peer that is ahead is where a node that is behind syncs from.
    case status(height: UInt64, headHash: Hash)
    /// Asks for the committed blocks `fromHeight...toHeight` with their certificates.
    case syncRequest(fromHeight: UInt64, toHeight: UInt64)
    /// Committed blocks in height order with their certificates; at most `maxSyncBlocks`.
    case syncBlocks([CommittedBlock])
    /// A block a validator just committed, pushed to observers (and to validators that are behind).
    case committed(CommittedBlock)

    /// A block with the certificate that proves it committed.
    public struct CommittedBlock: Equatable, Sendable {
        public var block: Block
        public var certificate: CommitCertificate
        public init(block: Block, certificate: CommitCertificate) {
            self.block = block
            self.certificate = certificate
        }
    }

    /// Kind bytes; an unknown kind is refused (a newer peer speaks another protocol version).
    public enum Kind: UInt8, Sendable, CaseIterable {
        case consensus = 0x01, transactions = 0x02, status = 0x03, syncRequest = 0x04, syncBlocks = 0x05, committed = 0x06
    }

    /// Most transactions one gossip message carries.
    public static let maxGossipTransactions = 512
    /// Most blocks one sync answer carries (it is also cut to the frame size).
    public static let maxSyncBlocks = 64

    public var kind: Kind {
        switch self {
        case .consensus: .consensus
        case .transactions: .transactions
        case .status: .status
        case .syncRequest: .syncRequest
        case .syncBlocks: .syncBlocks
        case .committed: .committed
        }
    }

    /// The message's bytes on the wire.
    public var bytes: [UInt8] {
        var w = CanonicalWriter()
        w.byte(kind.rawValue)
        switch self {
        case .consensus(let m): w.value(m)
        case .transactions(let txs): w.list(txs)
        case .status(let height, let hash):
            w.uvarint(height)
            w.hash(hash)
        case .syncRequest(let from, let to):
            w.uvarint(from)
            w.uvarint(to)
        case .syncBlocks(let blocks):
            w.uvarint(blocks.count)
            for b in blocks { Self.write(b, to: &w) }
        case .committed(let b): Self.write(b, to: &w)
        }
        return w.bytes
    }

    private static func write(_ b: CommittedBlock, to w: inout CanonicalWriter) {
        w.value(b.block)
        w.value(b.certificate)
    }

    /// Decodes one message strictly: a known kind, bounded lists, no trailing bytes.
    public init(bytes: [UInt8]) throws(DecodeError) {
        var r = CanonicalReader(bytes, root: "peer message")
        let start = r.offset
        let raw = try r.byte("kind")
        guard let kind = Kind(rawValue: raw) else { throw r.error("kind", .unknownTag(UInt64(raw)), at: start) }
        switch kind {
        case .consensus:
            self = .consensus(try r.value("consensus"))
        case .transactions:
            self = .transactions(try r.list("transactions", limit: Self.maxGossipTransactions))
        case .status:
            self = .status(height: try r.uvarint("height"), headHash: try r.hash("head_hash"))
        case .syncRequest:
            let from = try r.uvarint("from_height")
            let to = try r.uvarint("to_height")
            guard from >= 1, from <= to else {
                throw r.error("to_height", .invalidValue("a range \(from)...\(to) must start at 1 or above and not run backwards"))
            }
            self = .syncRequest(fromHeight: from, toHeight: to)
        case .syncBlocks:
            let n = try r.count("blocks", limit: Self.maxSyncBlocks)
            var blocks: [CommittedBlock] = []
            for i in 0..<n { blocks.append(try Self.read(&r, "blocks[\(i)]")) }
            self = .syncBlocks(blocks)
        case .committed:
            self = .committed(try Self.read(&r, "committed"))
        }
        try r.finish()
    }

    private static func read(_ r: inout CanonicalReader, _ field: String) throws(DecodeError) -> CommittedBlock {
        CommittedBlock(block: try r.value("\(field).block"), certificate: try r.value("\(field).certificate"))
    }
}
