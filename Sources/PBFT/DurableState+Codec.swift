import ChainTypes

// The durable state's canonical bytes, for the shell that persists it (NodeCore's driver):
// `u8 version (2) ‖ uvarint view ‖ bool view_changing ‖ list≤64<signed slot> ‖
// option<pre-prepare> accepted ‖ option<prepared certificate> ‖ option<block> prepared block ‖
// option<view-change> ‖ option<new-view>`, a signed slot being `u8 kind ‖ uvarint view ‖
// uvarint height ‖ hash`. Version 1 (written before the new-view was kept) is the same
// without the last field; it still decodes, with no new-view.
extension DurableState: CanonicalCodable {
    public static let version: UInt8 = 2
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
        w.optional(newView) { $0.value($1) }
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        let start = r.offset
        let version = try r.byte("version")
        guard version == 1 || version == Self.version else { throw r.error("version", .unknownVersion(version), at: start) }
        let view = try r.uvarint("view")
        let viewChanging = try r.bool("view_changing")
        let lastSigned = try r.list("last_signed", limit: Self.maxSignedSlots, as: SignedSlot.self)
        let accepted = try r.optional("accepted") { (r: inout CanonicalReader) throws(DecodeError) in try r.value("accepted", as: PrePrepare.self) }
        let prepared = try r.optional("prepared") { (r: inout CanonicalReader) throws(DecodeError) in
            try r.value("prepared", as: PreparedCertificate.self)
        }
        let block = try r.optional("prepared_block") { (r: inout CanonicalReader) throws(DecodeError) in try r.value("prepared_block", as: Block.self) }
        let viewChange = try r.optional("view_change") { (r: inout CanonicalReader) throws(DecodeError) in try r.value("view_change", as: ViewChange.self) }
        let newView = version == 1 ? nil : try r.optional("new_view") { (r: inout CanonicalReader) throws(DecodeError) in
            try r.value("new_view", as: NewView.self)
        }
        self.init(view: view, viewChanging: viewChanging, lastSigned: lastSigned, accepted: accepted, prepared: prepared,
                  preparedBlock: block, viewChange: viewChange, newView: newView)
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
