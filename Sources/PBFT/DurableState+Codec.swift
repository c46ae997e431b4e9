import ChainTypes

// The durable state's canonical bytes, for the shell that persists it (NodeCore's driver):
// `u8 version (1) ‖ uvarint view ‖ bool view_changing ‖ list≤64<signed slot> ‖
// option<pre-prepare> accepted ‖ option<prepared certificate> ‖ option<block> prepared block ‖
// option<view-change>`, a signed slot being `u8 kind ‖ uvarint view ‖ uvarint height ‖ hash`.
extension DurableState: CanonicalCodable {
    public static let version: UInt8 = 1
    /// More slots than kinds × a few views never occur; the bound keeps a corrupted file small.
    public static let maxSignedSlots = 64

    public func encode(to w: inout CanonicalWriter) {
        w.byte(Self.version)
        w.uvarint(view)
        w.bool(viewChanging)
        w.list(lastSigned)
        w.optional(accepted) { $0.value($1) }
        w.optional(prepared) { $0.value($1) }
        w.optional(preparedBlock) { $0.value($1) }
        w.optional(viewChange) { $0.value($1) }
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        try r.version(Self.version)
        let view = try r.uvarint("view")
        let viewChanging = try r.bool("view_changing")
        let lastSigned = try r.list("last_signed", limit: Self.maxSignedSlots, as: SignedSlot.self)
        let accepted = try r.optional("accepted") { (r: inout CanonicalReader) throws(DecodeError) in try r.value("accepted", as: PrePrepare.self) }
        let prepared = try r.optional("prepared") { (r: inout CanonicalReader) throws(DecodeError) in
            try r.value("prepared", as: PreparedCertificate.self)
        }
        let block = try r.optional("prepared_block") { (r: inout CanonicalReader) throws(DecodeError) in try r.value("prepared_block", as: Block.self) }
        let viewChange = try r.optional("view_change") { (r: inout CanonicalReader) throws(DecodeError) in try r.value("view_change", as: ViewChange.self) }
        self.init(view: view, viewChanging: viewChanging, lastSigned: lastSigned, accepted: accepted, prepared: prepared,
                  preparedBlock: block, viewChange: viewChange)
    }
}

extension SignedSlot: CanonicalCodable {
    public func encode(to w: inout CanonicalWriter) {
        w.byte(kind.rawValue)
        w.uvarint(view)
        w.uvarint(height)
        w.hash(hash)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        let start = r.offset
        let tag = try r.byte("kind")
        guard let kind = Kind(rawValue: tag) else { throw r.error("kind", .unknownTag(UInt64(tag)), at: start) }
        self.init(kind: kind, view: try r.uvarint("view"), height: try r.uvarint("height"), hash: try r.hash("hash"))
    }
}
