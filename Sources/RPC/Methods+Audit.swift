import ChainTypes
import Ledger

// audit.blocks — the whole history, as stored, for `hansa audit verify --rpc` (docs/AUDIT.md).
extension HansaRPC {
    func auditMethods() -> [RPCMethod] {
        [
            RPCMethod("audit.blocks",
                      "Committed blocks with their certificates and receipts as stored (canonical bytes, hex), from a height on: what an auditor re-verifies (auditors and regulators).",
                      params: [RPCParam("from_height", "the first block's height (1 or more)", schema: Schema.uint64),
                               RPCParam("limit", required: false, "most blocks (default and most: max_audit_blocks); a page also stops after max_audit_page_bytes",
                                        schema: Schema.integer("blocks", minimum: 1, maximum: limits.maxAuditBlocks)),
                               authParam],
                      result: "blocks", schema: Schema.object("head_height, genesis_hash, blocks [{height, block_hex, certificate_hex, receipts_hex}]")) { [self] call throws(RPCError) in
                let s = try snapshot()
                let reader = try reader(call, s)
                guard reader.seesEverything else {
                    accessLog.append(reader: reader.address, role: reader.role, method: call.method, subject: "blocks", remote: call.remote,
                                     allowed: false, nowMillis: nowMillis())
                    throw .readNotAllowed("the whole history (audit.blocks) is for auditors and regulators; sign the request (auth) as one")
                }
                let from = try call.params.required("from_height", call.params.uint64)
                guard from >= 1 else { throw .invalidParams("from_height starts at 1 (height 0 is the genesis)") }
                let limit = try call.params.int("limit", in: 1...limits.maxAuditBlocks) ?? limits.maxAuditBlocks
                var blocks: [JSON] = []
                var bytes = 0
                var height = from
                while height <= s.head.height, blocks.count < limit, blocks.isEmpty || bytes < limits.maxAuditPageBytes {
                    guard let stored = try read({ () throws(LedgerError) in try s.storedBlock(at: height) }) else { break }
                    bytes += stored.block.count + (stored.certificate?.count ?? 0) + (stored.receipts?.count ?? 0)
                    blocks.append(.object([
                        "height": .string(String(height)), "block_hex": .string(Hex.encode(stored.block)),
                        "certificate_hex": stored.certificate.map { .string(Hex.encode($0)) } ?? .null,
                        "receipts_hex": stored.receipts.map { .string(Hex.encode($0)) } ?? .null,
                    ]))
                    height += 1
                }
                if !blocks.isEmpty {
                    accessLog.append(reader: reader.address, role: reader.role, method: call.method, subject: "blocks \(from)-\(height - 1)",
                                     remote: call.remote, allowed: true, nowMillis: nowMillis())
                }
                return .object(["head_height": .string(String(s.head.height)), "genesis_hash": .string(s.genesis.hash.hex),
                                "blocks": .array(blocks)])
            },
        ]
    }
}
