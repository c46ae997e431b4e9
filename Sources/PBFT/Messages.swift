import ChainTypes

/// The primary's proposal of `block` for (`view`, `height`) (Castro & Liskov 1999, §4.2
/// pre-prepare). The signature covers (view, height, block hash, proposer index), not the
/// block bytes: the hash commits to them.
public struct PrePrepare: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 1

    public var view: UInt64
    public var height: UInt64
    public var block: Block
    public var proposerIndex: UInt16
    public var signature: Signature

    public init(view: UInt64, height: UInt64, block: Block, proposerIndex: UInt16, signature: Signature) {
        self.view = view; self.height = height; self.block = block
        self.proposerIndex = proposerIndex; self.signature = signature
    }

    public static func signingBody(view: UInt64, height: UInt64, blockHash: Hash, proposerIndex: UInt16) -> [UInt8] {
        var w = CanonicalWriter(capacity: 64)
        w.header(.prePrepare, version: version)
        w.uvarint(view)
        w.uvarint(height)
        w.hash(blockHash)
        w.uvarint(UInt64(proposerIndex))
        return w.bytes
    }

    public var blockHash: Hash { block.hash }
    public var signingBody: [UInt8] { Self.signingBody(view: view, height: height, blockHash: blockHash, proposerIndex: proposerIndex) }

    public func encode(to w: inout CanonicalWriter) {
        w.header(.prePrepare, version: Self.version)
        w.uvarint(view)
        w.uvarint(height)
        w.value(block)
        w.uvarint(UInt64(proposerIndex))
        w.signature(signature)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        _ = try r.header(.prePrepare, versions: Self.version...Self.version)
        view = try r.uvarint("view")
        height = try r.uvarint("height")
        block = try r.value("block")
        proposerIndex = try r.validatorIndex("proposer_index")
        signature = try r.signature("signature")
    }
}

/// A replica's statement that it committed `blockHash` at `height`, sent every
/// `checkpoint_interval` heights (Castro & Liskov 1999, §4.3). A quorum of matching
/// checkpoints makes the checkpoint stable and moves the low watermark.
public struct Checkpoint: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 1

    public var height: UInt64
    public var blockHash: Hash
    public var validatorIndex: UInt16
    public var signature: Signature

    public init(height: UInt64, blockHash: Hash, validatorIndex: UInt16, signature: Signature) {
        self.height = height; self.blockHash = blockHash; self.validatorIndex = validatorIndex; self.signature = signature
    }

    public static func signingBody(height: UInt64, blockHash: Hash, validatorIndex: UInt16) -> [UInt8] {
        var w = CanonicalWriter(capacity: 48)
        w.header(.checkpoint, version: version)
        w.uvarint(height)
        w.hash(blockHash)
        w.uvarint(UInt64(validatorIndex))
        return w.bytes
    }

    public var signingBody: [UInt8] { Self.signingBody(height: height, blockHash: blockHash, validatorIndex: validatorIndex) }

    public func encode(to w: inout CanonicalWriter) {
        w.fixed(signingBody)
        w.signature(signature)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        _ = try r.header(.checkpoint, versions: Self.version...Self.version)
        height = try r.uvarint("height")
        blockHash = try r.hash("block_hash")
        validatorIndex = try r.validatorIndex("validator_index")
        signature = try r.signature("signature")
    }
}

/// Proof that `blockHash` was prepared at (`view`, `height`): a quorum of prepare votes
/// (Castro & Liskov 1999, §4.2 "prepared"; every replica, the primary included, sends a
/// prepare). Carried in view-change messages so a block that may have committed is
/// re-proposed (§4.4).
///
/// Invariant: signers strictly ascending by index.
public struct PreparedCertificate: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 1

    public var view: UInt64
    public var height: UInt64
    public var blockHash: Hash
    public var signers: [CommitCertificate.Signer]

    public init(view: UInt64, height: UInt64, blockHash: Hash, signers: [CommitCertificate.Signer]) {
        self.view = view; self.height = height; self.blockHash = blockHash
        self.signers = signers.sorted { $0.validatorIndex < $1.validatorIndex }
    }

    public func encode(to w: inout CanonicalWriter) {
        w.header(.preparedCertificate, version: Self.version)
        w.uvarint(view)
        w.uvarint(height)
        w.hash(blockHash)
        w.list(signers)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        _ = try r.header(.preparedCertificate, versions: Self.version...Self.version)
        view = try r.uvarint("view")
        height = try r.uvarint("height")
        blockHash = try r.hash("block_hash")
        signers = try r.sortedList("signers", limit: Limits.maxValidators) { (s: CommitCertificate.Signer) in s.validatorIndex }
    }
}

/// A replica's request to move to view `newView` (Castro & Liskov 1999, §4.4), with what it
/// knows: the commit certificate of its highest committed block (in place of the paper's
/// checkpoint proof: it proves the whole chain below it) and its prepared certificate for
/// the next height, if any. The prepared block travels beside the signed part
/// (`preparedBlock`), checked against the certificate's hash.
public struct ViewChange: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 1

    public var newView: UInt64
    public var validatorIndex: UInt16
    public var highestCommit: CommitCertificate?
    public var prepared: PreparedCertificate?
    public var signature: Signature
    /// Required exactly when `prepared` is present; not covered by the signature.
    public var preparedBlock: Block?

    public init(newView: UInt64, validatorIndex: UInt16, highestCommit: CommitCertificate?,
                prepared: PreparedCertificate?, signature: Signature, preparedBlock: Block?) {
        self.newView = newView; self.validatorIndex = validatorIndex; self.highestCommit = highestCommit
        self.prepared = prepared; self.signature = signature; self.preparedBlock = preparedBlock
    }

    public static func signingBody(newView: UInt64, validatorIndex: UInt16, highestCommit: CommitCertificate?,
                                   prepared: PreparedCertificate?) -> [UInt8] {
        var w = CanonicalWriter(capacity: 512)
        w.header(.viewChange, version: version)
        w.uvarint(newView)
        w.uvarint(UInt64(validatorIndex))
        w.optional(highestCommit) { $0.value($1) }
        w.optional(prepared) { $0.value($1) }
        return w.bytes
    }

    public var signingBody: [UInt8] {
        Self.signingBody(newView: newView, validatorIndex: validatorIndex, highestCommit: highestCommit, prepared: prepared)
    }

    /// The signed part only, as carried inside a new-view message.
    public var summary: ViewChange {
        var copy = self
        copy.preparedBlock = nil
        return copy
    }

    /// Height of the highest committed block this replica proves (0 = only genesis).
    public var committedHeight: UInt64 { highestCommit?.height ?? 0 }

    public func encode(to w: inout CanonicalWriter) {
        w.fixed(signingBody)
        w.signature(signature)
        w.optional(preparedBlock) { $0.value($1) }
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        _ = try r.header(.viewChange, versions: Self.version...Self.version)
        newView = try r.uvarint("new_view")
        validatorIndex = try r.validatorIndex("validator_index")
        highestCommit = try r.optional("highest_commit") { (r: inout CanonicalReader) throws(DecodeError) in try r.value("highest_commit") }
        prepared = try r.optional("prepared") { (r: inout CanonicalReader) throws(DecodeError) in try r.value("prepared") }
        signature = try r.signature("signature")
        preparedBlock = try r.optional("prepared_block") { (r: inout CanonicalReader) throws(DecodeError) in try r.value("prepared_block") }
    }
}

/// The new primary's announcement of view `view` (Castro & Liskov 1999, §4.4): a quorum of
/// view-change summaries proving the replicas moved, and the re-proposal of the block that
/// the highest prepared certificate among them names, if any. Every replica recomputes that
/// choice from the summaries and refuses a new view that differs.
public struct NewView: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 1

    public var view: UInt64
    public var primaryIndex: UInt16
    /// Summaries (no attached blocks), strictly ascending by validator index.
    public var viewChanges: [ViewChange]
    public var reproposal: PrePrepare?
    public var signature: Signature

    public init(view: UInt64, primaryIndex: UInt16, viewChanges: [ViewChange], reproposal: PrePrepare?, signature: Signature) {
        self.view = view; self.primaryIndex = primaryIndex
        self.viewChanges = viewChanges.map(\.summary).sorted { $0.validatorIndex < $1.validatorIndex }
        self.reproposal = reproposal; self.signature = signature
    }

    public static func signingBody(view: UInt64, primaryIndex: UInt16, viewChanges: [ViewChange], reproposal: PrePrepare?) -> [UInt8] {
        var w = CanonicalWriter(capacity: 2048)
        w.header(.newView, version: version)
        w.uvarint(view)
        w.uvarint(UInt64(primaryIndex))
        w.list(viewChanges)
        w.optional(reproposal) { $0.value($1) }
        return w.bytes
    }

    public var signingBody: [UInt8] {
        Self.signingBody(view: view, primaryIndex: primaryIndex, viewChanges: viewChanges, reproposal: reproposal)
    }

    public func encode(to w: inout CanonicalWriter) {
        w.fixed(signingBody)
        w.signature(signature)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        _ = try r.header(.newView, versions: Self.version...Self.version)
        view = try r.uvarint("view")
        primaryIndex = try r.validatorIndex("primary_index")
        let start = r.offset
        viewChanges = try r.sortedList("view_changes", limit: Limits.maxValidators) { (v: ViewChange) in v.validatorIndex }
        if viewChanges.contains(where: { $0.preparedBlock != nil }) {
            throw r.error("view_changes", .invalidValue("view-change summaries in a new-view carry no blocks"), at: start)
        }
        reproposal = try r.optional("reproposal") { (r: inout CanonicalReader) throws(DecodeError) in try r.value("reproposal") }
        signature = try r.signature("signature")
    }
}

/// Asks a peer for its latest new-view message at or above `view`: how a replica that
/// missed a view change (crashed, partitioned) catches up on the view. Unsigned: the
/// transport authenticates the sender, and the answer proves itself.
public struct NewViewRequest: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 1
    public var view: UInt64

    public init(view: UInt64) { self.view = view }

    public func encode(to w: inout CanonicalWriter) {
        w.header(.newViewRequest, version: Self.version)
        w.uvarint(view)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        _ = try r.header(.newViewRequest, versions: Self.version...Self.version)
        view = try r.uvarint("view")
    }
}

/// Every message replicas exchange, told apart by its first byte (its type tag).
public enum ConsensusMessage: Hashable, Sendable, CanonicalCodable {
    case prePrepare(PrePrepare)
    case vote(Vote)
    case checkpoint(Checkpoint)
    case viewChange(ViewChange)
    case newView(NewView)
    case newViewRequest(NewViewRequest)

    public func encode(to w: inout CanonicalWriter) {
        switch self {
        case .prePrepare(let m): m.encode(to: &w)
        case .vote(let m): m.encode(to: &w)
        case .checkpoint(let m): m.encode(to: &w)
        case .viewChange(let m): m.encode(to: &w)
        case .newView(let m): m.encode(to: &w)
        case .newViewRequest(let m): m.encode(to: &w)
        }
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        guard r.remaining > 0 else { throw r.error("type", .unexpectedEnd(needed: 1)) }
        let tag = r.bytes[r.offset]
        switch TypeTag(rawValue: tag) {
        case .prePrepare: self = .prePrepare(try PrePrepare(from: &r))
        case .vote: self = .vote(try Vote(from: &r))
        case .checkpoint: self = .checkpoint(try Checkpoint(from: &r))
        case .viewChange: self = .viewChange(try ViewChange(from: &r))
        case .newView: self = .newView(try NewView(from: &r))
        case .newViewRequest: self = .newViewRequest(try NewViewRequest(from: &r))
        default: throw r.error("type", .unknownTag(UInt64(tag)))
        }
    }

    /// A short name for logs and statistics.
    public var kind: String {
        switch self {
        case .prePrepare: "pre-prepare"
        case .vote(let v): v.phase == .prepare ? "prepare" : "commit"
        case .checkpoint: "checkpoint"
        case .viewChange: "view-change"
        case .newView: "new-view"
        case .newViewRequest: "new-view-request"
        }
    }
}

extension CanonicalReader {
    /// A validator index: a uvarint below `Limits.maxValidators`.
    mutating func validatorIndex(_ field: @autoclosure () -> String) throws(DecodeError) -> UInt16 {
        UInt16(try uvarint(field(), maximum: UInt64(Limits.maxValidators - 1)))
    }
}
