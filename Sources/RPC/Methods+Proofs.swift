import ChainTypes
import Ledger

// proof.* — for auditors: inclusion proofs against a certified header (PROTOCOL.md §15, §17).
extension HansaRPC {
    func proofMethods() -> [RPCMethod] {
        [
            RPCMethod("proof.transaction", "A transaction's and its receipt's inclusion proofs (RFC 6962 audit paths) with the certified header.",
                      params: [RPCParam("hash", "the transaction's hash", schema: Schema.hash), authParam],
                      result: "proof", schema: Schema.object("proof")) { [self] call throws(RPCError) in
                let s = try snapshot()
                let hash = try call.params.required("hash", call.params.hash)
                guard let found = try read({ () throws(LedgerError) in try s.transaction(hash) }),
                      let p = try read({ () throws(LedgerError) in try s.inclusionProof(of: hash) }) else {
                    throw .notFound("transaction", hash.hex)
                }
                try authorizeTransactionRead(try reader(call, s), call, found.transaction, s, what: "transaction \(hash.hex)")
                return .object([
                    "transaction_hash": .string(hash.hex), "receipt_hash": .string(found.receipt.hash.hex),
                    "transaction_encoded_hex": .string(Hex.encode(found.transaction.canonicalBytes)),
                    "receipt_encoded_hex": .string(Hex.encode(found.receipt.canonicalBytes)),
                    "index": .int(p.index), "size": .int(p.size), "transaction_path": .array(p.transactionPath.map { .string($0.hex) }),
                    "receipt_index": .int(p.receiptIndex), "receipt_count": .int(p.receiptCount),
                    "receipt_path": .array(p.receiptPath.map { .string($0.hex) }),
                    "block": try certifiedHeader(s, p.height),
                ])
            },
            RPCMethod("proof.account", "An account's state (or its absence) with a state-tree proof against the head's certified state root.",
                      params: [RPCParam("address", "the account's address", schema: Schema.address), authParam],
                      result: "proof", schema: Schema.object("proof")) { [self] call throws(RPCError) in
                let s = try snapshot()
                let address = try call.params.required("address", call.params.address)
                try reader(call, s).requireAccount(address, s, remote: call.remote)
                let p = try read { () throws(LedgerError) in try s.accountProof(address) }
                return .object([
                    "address": .string(address.text), "key": .string(StateKey.hash(StateKey.account(address)).hex),
                    "account_encoded_hex": p.account.map { .string(Hex.encode($0.canonicalBytes)) } ?? .null,
                    "proof": proofJSON(p.proof), "state_root": .string(p.stateRoot.hex),
                    "block": s.head.height == 0 ? .null : try certifiedHeader(s, s.head.height),
                ])
            },
            RPCMethod("proof.storage", "A contract storage slot's value (or its absence) with a state-tree proof against the head's certified state root.",
                      params: [RPCParam("contract", "the contract's address", schema: Schema.address),
                               RPCParam("key_hex", "the slot key's bytes (docs/CONTRACTS.md: name, or name/ ‖ ABI(key))", schema: Schema.hex),
                               authParam],
                      result: "proof", schema: Schema.object("proof")) { [self] call throws(RPCError) in
                let s = try snapshot()
                let contract = try call.params.required("contract", call.params.address)
                let key = try call.params.required("key_hex") { (n: String) throws(RPCError) in try call.params.hex(n, maxBytes: 4_096) }
                try authorizeContractRead(try reader(call, s), call, contract, s)
                let stateKey = StateKey.hash(StateKey.slot(contract, key))
                let tree = SparseMerkleTree(store: s.store, prefix: Ledger.Keys.stateNodePrefix)
                let proof: SparseMerkleProof
                do { proof = try tree.proof(for: stateKey) } catch { throw .internalError("the state tree: \(error)") }
                let value = try read { () throws(LedgerError) in try s.contractStorage(contract, key: key) }
                return .object([
                    "contract": .string(contract.text), "key": .string(stateKey.hex), "value_hex": value.map { .string(Hex.encode($0)) } ?? .null,
                    "proof": proofJSON(proof), "state_root": .string(s.stateRoot.hex),
                    "block": s.head.height == 0 ? .null : try certifiedHeader(s, s.head.height),
                ])
            },
        ]
    }

    /// The header at `height` with the certificate that commits it.
    func certifiedHeader(_ s: LedgerSnapshot, _ height: UInt64) throws(RPCError) -> JSON {
        guard let block = try read({ () throws(LedgerError) in try s.block(at: height) }) else { throw .notFound("block", "at height \(height)") }
        let certificate = try read { () throws(LedgerError) in try s.certificate(at: height) }
        return .object(["header": try json(BlockHeaderJSON(block.header)), "header_encoded_hex": .string(Hex.encode(block.header.canonicalBytes)),
                        "certificate": certificate.map { (try? json(CommitCertificateJSON($0))) ?? .null } ?? .null,
                        "certificate_encoded_hex": certificate.map { .string(Hex.encode($0.canonicalBytes)) } ?? .null])
    }

    /// A state-tree proof as JSON (PROTOCOL.md §15): siblings from the root down; the leaf met.
    func proofJSON(_ p: SparseMerkleProof) -> JSON {
        .object(["siblings": .array(p.siblings.map { .string($0.hex) }),
                 "leaf": p.leaf.map { .object(["key": .string($0.key.hex), "value_hash": .string($0.valueHash.hex)]) } ?? .null,
                 "encoded_hex": .string(Hex.encode(p.canonicalBytes))])
    }
}
