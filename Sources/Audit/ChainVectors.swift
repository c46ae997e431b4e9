import ChainTypes
import ContractVM
import Foundation
import HansaConfig
import HansaCrypto
import Ledger

/// The test vectors that need execution (docs/PROTOCOL.md §9): a whole small chain on its own
/// genesis — transfers, a mint, a governance registration, a failed transfer, and a letter of
/// credit from deployment through payment to its scheduled expiry — with every block's
/// encoding, certificate, receipts, state changes and roots; and, drawn from it, the
/// transaction, block, payload, receipt, Merkle and state-tree vectors. Deterministic: fixed
/// keys, fixed times, RFC 6979 signatures. `hansa dev write-vectors` writes them with
/// `ProtocolVectors.files()`; the auditor verifies the chain (`chain.hansa-archive`).
public enum ChainVectors {
    static func key(_ i: Int) -> PrivateKey { ProtocolVectors.key(i) }

    /// Test keys: 0–3 the validator banks, 4 the importer (bank-0's customer), 7 the exporter
    /// (bank-1's), 8 the carrier, 9 the inspector registered by governance in block 1.
    public static func genesis() -> Genesis {
        let banks = (0..<4).map { key($0).publicKey }
        let validators = banks.enumerated().map { i, k in
            Validator(name: "bank-\(i)", publicKey: k, p2pAddress: "10.0.0.\(i + 1):26656", tlsSPKISHA256: SHA256.hash(utf8: "tls key of bank-\(i)"))
        }
        var participants = validators.map { Participant(name: $0.name, publicKey: $0.publicKey, role: .validatorBank, bank: nil) }
        participants += [
            Participant(name: "importer", publicKey: key(4).publicKey, role: .importer, bank: banks[0].address),
            Participant(name: "exporter", publicKey: key(7).publicKey, role: .exporter, bank: banks[1].address),
            Participant(name: "carrier", publicKey: key(8).publicKey, role: .carrier, bank: nil),
        ]
        let usd = try! CurrencyCode("USD")
        return Genesis(chain: try! ChainID("hansa-vectors"), genesisTimeMillis: 1_764_028_800_000, validators: try! ValidatorSet(validators),
                       participants: participants,
                       currencies: [Currency(code: usd, decimals: 2, issuers: [banks[0].address, banks[2].address])],
                       deposits: [Deposit(account: key(4).publicKey.address, currency: usd, amount: 300_000_00)],
                       consensus: .standard, governanceThreshold: 3)
    }

    /// The validators' test keys in validator-set (address) order: key i signs as index i.
    public static func validatorKeys(_ genesis: Genesis) -> [PrivateKey] {
        genesis.validators.validators.map { v in (0..<4).map(key).first { $0.publicKey == v.publicKey }! }
    }

    /// The chain, built once: blocks with certificates, receipts as stored, state changes.
    public struct Chain {
        public struct Step {
            public let block: Block
            public let certificate: CommitCertificate
            public let receiptsEncoded: [UInt8]
            public let receipts: [Receipt]
            public let scheduledCalls: Int
            public let stateChanges: [(key: Hash, value: [UInt8]?)]
        }
        public let genesis: Genesis
        public let genesisStateRoot: Hash
        public let steps: [Step]
        public let credit: Address
        public let ledger: Ledger
        public let counter: Address
        public let counterCode: [UInt8]
        /// The letter of credit's event names and the ledger's `Transfer`, to name events.
        public let eventNames: [String]
    }

    public static func build(contractSource: String) throws -> Chain {
        let genesis = genesis()
        let dev = DevChain(genesis: genesis, validatorKeys: validatorKeys(genesis))
        let store = MemoryStore()
        let ledger = try Ledger(store: store, genesis: genesis, engine: HansaVM(), cacheBytes: 0)
        let genesisRoot = ledger.stateRoot
        let compiled = try Compiler.compile(String(contentsOfFile: contractSource, encoding: .utf8), file: contractSource)
        let usd = try! CurrencyCode("USD")
        var nonces: [Address: UInt64] = [:]
        func tx(_ k: PrivateKey, _ kind: TransactionKind, _ payload: some CanonicalEncodable, gas: UInt64? = nil) -> Transaction {
            let a = k.publicKey.address
            defer { nonces[a, default: 0] += 1 }
            let bytes = payload.canonicalBytes
            return TransactionBody(chain: genesis.binding, sender: k.publicKey, nonce: nonces[a, default: 0], kind: kind, payload: bytes,
                                   gasLimit: gas ?? GasSchedule.intrinsic(kind, payloadBytes: bytes.count)).signed(with: k)
        }
        func call(_ k: PrivateKey, _ contract: Address, _ function: String, _ args: [ABIValue] = [], value: UInt64? = nil) -> Transaction {
            tx(k, .callContract, CallPayload(contract: contract, input: ABI.encodeCall(function, args), value: value.map { Amount($0, usd) }), gas: 2_000_000)
        }
        let (importer, exporter, carrier, bank0, bank1, bank2) = (key(4), key(7), key(8), key(0), key(1), key(2))
        let start = genesis.genesisTimeMillis
        let day: UInt64 = 86_400_000
        let a = { (k: PrivateKey) in ABIValue.address(k.publicKey.address) }
        // bank-0's governance transaction takes its nonce 0; the deployment is its nonce 1.
        let credit = Executor.contractAddress(deployer: bank0.publicKey.address, nonce: 1)
        func bits(_ names: String...) -> Int64 { names.reduce(0) { $0 | compiled.int($1) } }

        var steps: [Chain.Step] = []
        func commit(_ at: UInt64, _ txs: [Transaction]) throws {
            let (block, certificate) = try dev.nextBlock(on: ledger, txs, timestampMillis: at)
            let changes = try ledger.executor.executeChanges(block, store: store)
            try ledger.apply(block, certificate: certificate)
            steps.append(Chain.Step(block: block, certificate: certificate, receiptsEncoded: changes.receiptsEncoded, receipts: changes.receipts,
                                    scheduledCalls: changes.scheduledCalls.count,
                                    stateChanges: changes.stateChanges.map { ($0.key, $0.value) }.sorted { $0.key < $1.key }))
        }
        // Block 1: a transfer, a mint, and the registration of an inspector by three validators.
        let register = try dev.governanceTransaction(.register(name: "inspector", publicKey: key(9).publicKey, role: .inspector, bank: nil),
                                                     on: ledger, sender: genesis.validators.validators.firstIndex { $0.publicKey == bank0.publicKey }!,
                                                     expiresAtMillis: start + day)
        nonces[bank0.publicKey.address] = 1
        try commit(start + 60_000, [
            tx(importer, .transfer, TransferPayload(to: exporter.publicKey.address, currency: usd, amount: 1_250_00)),
            tx(bank2, .mint, DepositPayload(account: bank2.publicKey.address, currency: usd, amount: 500_00)),
            register,
        ])
        // Block 2: bank-0 issues the credit (a draft until funded); a transfer that fails for want of funds.
        let (deploy, _) = (tx(bank0, .deployContract, DeployPayload(code: compiled.bytecode, constructorInput: ABI.encodeCall("init", [
            a(importer), a(exporter), a(bank1), a(bank1), a(carrier), .string("USD"), .int(250_000_00), .int(5_000),
            .int(Int64(start + 10 * day)), .int(Int64(start + 5 * day)), .int(21), .int(0), .string("CNSHA"), .string("NLRTM"),
            .int(bits("DOC_INVOICE", "DOC_TRANSPORT")), .int(bits("NAMED_CARRIER"))])), gas: 5_000_000), credit)
        try commit(start + 120_000, [deploy, tx(exporter, .transfer, TransferPayload(to: importer.publicKey.address, currency: usd, amount: 1_000_000_00))])
        // Blocks 3–6: escrow, advice, loading, a complying presentation that pays.
        try commit(start + 180_000, [call(importer, credit, "fund", value: 250_000_00)])
        try commit(start + day, [call(bank1, credit, "advise")])
        let loaded = start + 2 * day
        try commit(loaded, [call(carrier, credit, "shipping_event", [.string("MAEU-1"), .string("LOAD"), .string("ACT"), .string("CNSHA"),
                                                                    .string("MAERSK ESSEN"), .int(Int64(loaded))])])
        try commit(start + 3 * day, [call(exporter, credit, "present", [
            .bytes(SHA256.hash(utf8: "commercial invoice").bytes), .int(250_000_00), .string("USD"), .int(5_000), .string("MAEU-1"),
            .bytes(SHA256.hash(utf8: "bill of lading").bytes), .int(Int64(loaded)), .string("CNSHA"), .string("NLRTM"), .string("MAERSK ESSEN"),
            .bytes([]), .int(0), .string(""), .int(0), .bytes([]), .bytes([])])])
        // Block 7: past the expiry, the credit's scheduled expire runs before the transactions.
        try commit(start + 11 * day, [tx(importer, .transfer, TransferPayload(to: bank0.publicKey.address, currency: usd, amount: 1_00))])
        // Block 8: the VM vector's small contract (vm.json), deployed by bank-2 and called by the importer.
        let counter = try Compiler.compile(counterSource, file: "counter.hc")
        let counterAddress = Executor.contractAddress(deployer: bank2.publicKey.address, nonce: nonces[bank2.publicKey.address, default: 0])
        try commit(start + 12 * day, [
            tx(bank2, .deployContract, DeployPayload(code: counter.bytecode, constructorInput: ABI.encodeCall("init", [.int(40)])), gas: 1_000_000),
            call(importer, counterAddress, "add", [.int(2), .string("first")]),
            // Two failures: a require that reverts, and a run out of gas (gas_used = gas_limit).
            call(importer, counterAddress, "add", [.int(0), .string("zero")]),
            tx(importer, .callContract, CallPayload(contract: counterAddress, input: ABI.encodeCall("add", [.int(1), .string("late")]), value: nil),
               gas: 2_100),
        ])
        return Chain(genesis: genesis, genesisStateRoot: genesisRoot, steps: steps, credit: credit, ledger: ledger,
                     counter: counterAddress, counterCode: counter.bytecode, eventNames: compiled.eventNames + ["Transfer"])
    }

    /// The VM vector's contract: storage, a map, an event, a require and a return value.
    public static let counterSource = """
        storage count: int;
        storage owner: address;
        map notes: bytes => int;
        event Counted(by: address, count: int);

        init(start: int) {
            owner = caller();
            count = start;
        }

        pub fn add(n: int, note: bytes) -> int {
            require(n > 0, "add a positive number");
            count = count + n;
            notes[note] = count;
            emit Counted(caller(), count);
            return count;
        }
        """
}

// MARK: The files

extension ChainVectors {
    /// File name → contents: the JSON vectors, the chain's genesis file and its archive.
    public static func files(_ chain: Chain) throws -> [(String, Data)] {
        let eventNames = chain.eventNames
        let archive = NSTemporaryDirectory() + "hansa-vectors-\(UUID().uuidString).hansa-archive"
        defer { try? FileManager.default.removeItem(atPath: archive) }
        let writer = try Archive.Writer(path: archive, genesis: chain.genesis, lastHeight: UInt64(chain.steps.count))
        for s in chain.steps {
            try writer.append(height: s.block.header.height, block: s.block.canonicalBytes, certificate: s.certificate.canonicalBytes,
                              receipts: s.receiptsEncoded, hash: s.block.hash)
        }
        try writer.finish()
        return [
            ("chain.json", ProtocolVectors.jsonData(chainJSON(chain, eventNames))),
            ("chain-genesis.json", GenesisFile.encode(chain.genesis)),
            ("chain.hansa-archive", try Data(contentsOf: URL(fileURLWithPath: archive))),
            ("transactions.json", ProtocolVectors.jsonData(transactionsJSON(chain))),
            ("blocks.json", ProtocolVectors.jsonData(blocksJSON(chain))),
            ("payloads.json", ProtocolVectors.jsonData(payloadsJSON(chain))),
            ("receipts.json", ProtocolVectors.jsonData(receiptsJSON(chain, eventNames))),
            ("merkle.json", ProtocolVectors.jsonData(merkleJSON())),
            ("state_tree.json", ProtocolVectors.jsonData(stateTreeJSON(chain))),
            ("vm.json", ProtocolVectors.jsonData(vmJSON(chain))),
        ]
    }

    static func eventJSON(_ e: Event, _ names: [String]) -> [String: Any] {
        var o: [String: Any] = ["emitter": e.emitter.text, "topics": e.topics.map(\.hex), "data_hex": Hex.encode(e.data)]
        if let name = names.first(where: { Event.topic($0) == e.topics.first }) { o["name"] = name }
        return o
    }

    static func receiptJSON(_ r: Receipt, _ names: [String]) -> [String: Any] {
        var o: [String: Any] = ["transaction_hash": r.transactionHash.hex, "gas_used": String(r.gasUsed),
                                "events": r.events.map { eventJSON($0, names) }, "encoded_hex": Hex.encode(r.canonicalBytes), "hash": r.hash.hex]
        switch r.status {
        case .success: o["status"] = "success"
        case .failure(let code, let message): o["status"] = "failure"; o["error_code"] = code; o["error"] = message
        }
        return o
    }

    static func headerJSON(_ h: BlockHeader) -> [String: Any] {
        ["height": String(h.height), "previous_hash": h.previousHash.hex, "timestamp_ms": String(h.timestampMillis),
         "transactions_root": h.transactionsRoot.hex, "state_root": h.stateRoot.hex, "receipts_root": h.receiptsRoot.hex,
         "proposer": h.proposer.text, "view": String(h.view), "encoded_hex": Hex.encode(h.canonicalBytes), "hash": h.hash.hex]
    }

    static func chainJSON(_ chain: Chain, _ names: [String]) -> [String: Any] {
        let g = chain.genesis
        return [
            "description": """
                A whole chain to re-execute (docs/PROTOCOL.md §9 "Verify the vector chain yourself"): its genesis (chain-genesis.json \
                carries the same genesis as a file), then every block with its commit certificate (validators at indices 0, 1, 2 \
                of the address-sorted set), its receipts as a node stores them (scheduled calls' first), the state values it \
                wrote (tree key = SHA-256 of the state key; null = deleted; every key written, even with its old value) and the roots. chain.hansa-archive holds the same \
                chain in the archive format of docs/AUDIT.md.
                """,
            "genesis": ["encoded_hex": Hex.encode(g.canonicalBytes), "hash": g.hash.hex, "state_root": chain.genesisStateRoot.hex,
                        "validators_in_index_order": g.validators.validators.map { ["name": $0.name, "address": $0.address.text, "public_key": $0.publicKey.hex] }],
            "credit": chain.credit.text,
            "blocks": chain.steps.map { s -> [String: Any] in
                let sc = s.scheduledCalls
                return [
                    "header": headerJSON(s.block.header),
                    "block_encoded_hex": Hex.encode(s.block.canonicalBytes),
                    "certificate": ["view": String(s.certificate.view),
                                    "signers": s.certificate.signers.map { ["validator_index": Int($0.validatorIndex), "signature": $0.signature.hex] },
                                    "encoded_hex": Hex.encode(s.certificate.canonicalBytes)],
                    "transactions": s.block.transactions.enumerated().map { i, tx -> [String: Any] in
                        ["hash": tx.hash.hex, "sender": tx.sender.text, "kind": tx.body.kind.name, "nonce": String(tx.body.nonce),
                         "gas_limit": String(tx.body.gasLimit), "encoded_hex": Hex.encode(tx.canonicalBytes),
                         "receipt": receiptJSON(s.receipts[sc + i], names)]
                    },
                    "scheduled_call_receipts": s.receipts.prefix(sc).map { receiptJSON($0, names) },
                    "receipts_encoded_hex": Hex.encode(s.receiptsEncoded),
                    "state_changes": s.stateChanges.map { ["tree_key": $0.key.hex, "value_hex": $0.value.map { Hex.encode($0) } as Any? ?? NSNull()] },
                ]
            },
        ]
    }

    static func transactionsJSON(_ chain: Chain) -> [String: Any] {
        var seen = Set<TransactionKind>()
        var cases: [[String: Any]] = []
        for s in chain.steps {
            for tx in s.block.transactions where seen.insert(tx.body.kind).inserted {
                cases.append(["chain_id": tx.body.chain.id.value, "genesis_hash": tx.body.chain.genesisHash.hex, "sender_public_key": tx.body.sender.hex,
                              "sender_address": tx.sender.text, "nonce": String(tx.body.nonce), "kind": tx.body.kind.name, "kind_tag": Int(tx.body.kind.rawValue),
                              "payload_hex": Hex.encode(tx.body.payload), "gas_limit": String(tx.body.gasLimit), "body_hex": Hex.encode(tx.body.canonicalBytes),
                              "signature": tx.signature.hex, "encoded_hex": Hex.encode(tx.canonicalBytes), "hash": tx.hash.hex,
                              "height": String(s.block.header.height)])
            }
        }
        return ["description": "One transaction of each kind in the vector chain (chain.json): body fields, body encoding, signed encoding, hash = SHA-256(signed encoding). Each is valid on the chain's genesis at its height.",
                "cases": cases]
    }

    static func blocksJSON(_ chain: Chain) -> [String: Any] {
        let s = chain.steps[0]
        let v = s.certificate.signers[0]
        let vote = Vote(phase: .commit, view: s.certificate.view, height: s.block.header.height, blockHash: s.block.hash,
                        validatorIndex: v.validatorIndex, signature: v.signature)
        return ["description": "Block 1 of the vector chain: header, block, a commit vote and the commit certificate. A validator's index is its position in the genesis validator set sorted by address (validators_in_index_order in chain.json); the certificate is signed by indices 0, 1 and 2.",
                "header": headerJSON(s.block.header), "transaction_hashes": s.block.transactions.map(\.hash.hex),
                "block_encoded_hex": Hex.encode(s.block.canonicalBytes),
                "commit_vote": ["validator_index": Int(v.validatorIndex), "signer_public_key": chain.genesis.validators.validators[Int(v.validatorIndex)].publicKey.hex,
                                "signing_body_hex": Hex.encode(vote.signingBody), "encoded_hex": Hex.encode(vote.canonicalBytes)],
                "commit_certificate": ["encoded_hex": Hex.encode(s.certificate.canonicalBytes)]]
    }

    static func payloadsJSON(_ chain: Chain) -> [String: Any] {
        var cases: [[String: Any]] = []
        for s in chain.steps {
            for tx in s.block.transactions {
                var fields: [String: Any] = [:]
                let p = tx.body.payload
                switch tx.body.kind {
                case .transfer:
                    let t = try! TransferPayload(canonicalBytes: p)
                    fields = ["to": t.to.text, "currency": t.currency.value, "amount": String(t.amount)]
                case .mint, .burn:
                    let d = try! DepositPayload(canonicalBytes: p)
                    fields = ["account": d.account.text, "currency": d.currency.value, "amount": String(d.amount)]
                case .registerParticipant, .changeRole, .setNodePin:
                    let g = try! GovernancePayload(canonicalBytes: p)
                    fields = ["sequence": String(g.proposal.sequence), "expires_at_ms": String(g.proposal.expiresAtMillis),
                              "proposal_encoded_hex": Hex.encode(g.proposal.canonicalBytes), "action": "\(g.action)",
                              "approvals": g.approvals.map { ["validator_index": Int($0.validatorIndex), "signature": $0.signature.hex] }]
                case .deployContract:
                    let d = try! DeployPayload(canonicalBytes: p)
                    fields = ["code_sha256": SHA256.hash(d.code).hex, "code_bytes": d.code.count, "constructor_input_hex": Hex.encode(d.constructorInput),
                              "contract_address": Executor.contractAddress(deployer: tx.sender, nonce: tx.body.nonce).text,
                              "contract_address_rule": "first 20 bytes of SHA-256(string(\"hansa/contract/v1\") ‖ deployer address (20) ‖ uvarint(deployer nonce))"]
                case .callContract:
                    let c = try! CallPayload(canonicalBytes: p)
                    fields = ["contract": c.contract.text, "input_hex": Hex.encode(c.input),
                              "value": c.value.map { ["currency": $0.currency.value, "amount": String($0.minorUnits)] } as Any? ?? NSNull()]
                }
                // The deploy payload holds the whole program: its hex is in chain.json's transaction, not repeated here.
                cases.append(["kind": tx.body.kind.name, "height": String(s.block.header.height), "fields": fields,
                              "encoded_hex": tx.body.kind == .deployContract ? "see chain.json" : Hex.encode(p)])
            }
        }
        return ["description": "Every transaction payload of the vector chain (docs/PROTOCOL.md §16), decoded, with its encoding.", "cases": cases]
    }

    static func receiptsJSON(_ chain: Chain, _ names: [String]) -> [String: Any] {
        let failing = chain.steps[1], scheduled = chain.steps[6]
        return ["description": "Receipts (docs/PROTOCOL.md §17) from the vector chain: block 2 (a success with events, a failure) and block 7 (a scheduled call's receipt first). receipts_root is the RFC 6962 Merkle root of the receipts' hashes in order; stored_list_hex is the r/ value of docs/LEDGER.md (uvarint count ‖ receipts).",
                "blocks": [failing, scheduled].map { s in
                    ["height": String(s.block.header.height), "receipts": s.receipts.map { receiptJSON($0, names) },
                     "receipts_root": s.block.header.receiptsRoot.hex, "stored_list_hex": Hex.encode(s.receiptsEncoded)] as [String: Any]
                }]
    }

    static func merkleJSON() -> [String: Any] {
        ["description": "RFC 6962 Merkle roots over n leaf hashes (leaf_i = SHA-256 of the text \"leaf i\"): leaf node SHA-256(0x00 ‖ leaf), inner node SHA-256(0x01 ‖ left ‖ right), split at the largest power of two below n; the empty list's root is SHA-256 of no bytes. audit_path proves the last leaf.",
         "cases": [0, 1, 2, 3, 5, 7, 8].map { n -> [String: Any] in
            let leaves = (0..<n).map { SHA256.hash(utf8: "leaf \($0)") }
            var o: [String: Any] = ["n": n, "leaves": leaves.map(\.hex), "root": MerkleTree.root(leaves: leaves).hex]
            if n > 0 { o["audit_path"] = ["index": n - 1, "path": MerkleTree.auditPath(index: n - 1, leaves: leaves).map(\.hex)] }
            return o
         }]
    }

    static func stateTreeJSON(_ chain: Chain) -> [String: Any] {
        // Keys with chosen first bytes, so that the tree has both kinds of absence to prove.
        let firstBytes: [UInt8] = [0x00, 0x10, 0x20, 0x80, 0xc0]
        func chosen(_ first: UInt8, _ label: String) -> Hash { Hash(bytes: [first] + SHA256.hash(utf8: label).bytes.dropFirst())! }
        let keys = (0..<5).map { chosen(firstBytes[$0], "key \($0)") }
        let store = MemoryStore()
        let tree = SparseMerkleTree(store: store, prefix: Array("n/".utf8))
        var leaves: [Hash: Hash?] = [:]
        for (i, k) in keys.enumerated() { leaves[k] = SHA256.hash(utf8: "value \(i)") }
        var batch = StoreBatch()
        let root = try! tree.update(leaves, into: &batch)
        try! store.write(batch, sync: false)
        func proof(_ key: Hash) -> [String: Any] {
            let p = try! tree.proof(for: key)
            return ["key": key.hex, "siblings": p.siblings.map(\.hex),
                    "leaf": p.leaf.map { ["key": $0.key.hex, "value_hash": $0.valueHash.hex] } as Any? ?? NSNull(), "encoded_hex": Hex.encode(p.canonicalBytes)]
        }
        // Absent keys: 0x90… ends at the lone leaf of 0x80…; 0x40… at the empty right child of the
        // subtree of 0x00…, 0x10…, 0x20… (their second bit is 0).
        let otherLeaf: Hash? = chosen(0x90, "absent 0"), emptySubtree: Hash? = chosen(0x40, "absent 1")
        precondition(try! tree.proof(for: otherLeaf!).leaf != nil && tree.proof(for: emptySubtree!).leaf == nil)
        let importer = try! chain.ledger.accountProof(key(4).publicKey.address)
        return [
            "description": "The state tree of docs/PROTOCOL.md §15 over five keys (key_i = the byte in first_bytes ‖ bytes 1…31 of SHA-256 of the text \"key i\"; value hash SHA-256 of \"value i\"): its root, and proofs — inclusion, absence at another key's lone leaf, absence at an empty subtree — in JSON (siblings from the root down, the leaf met) and encoded. chain_account is the importer's account at the head of the vector chain with its proof against the last block's state root.",
            "first_bytes": firstBytes.map { String(format: "0x%02x", $0) },
            "leaves": keys.enumerated().map { ["key": $0.element.hex, "value_hash": SHA256.hash(utf8: "value \($0.offset)").hex] },
            "root": root.hex,
            "roots_by_prefix": (0...5).map { n -> [String: Any] in
                let t = StateTreeRoots.root(Array(keys.prefix(n)).enumerated().map { ($0.element, SHA256.hash(utf8: "value \($0.offset)")) })
                return ["leaves": n, "root": t.hex]
            },
            "inclusion": proof(keys[2]),
            "absence_at_other_leaf": proof(otherLeaf!),
            "absence_at_empty_subtree": proof(emptySubtree!),
            "chain_account": ["address": key(4).publicKey.address.text, "tree_key": StateKey.hash(StateKey.account(key(4).publicKey.address)).hex,
                              "account_encoded_hex": importer.account.map { Hex.encode($0.canonicalBytes) } as Any? ?? NSNull(),
                              "proof_encoded_hex": Hex.encode(importer.proof.canonicalBytes), "state_root": importer.stateRoot.hex],
        ]
    }
}

extension ChainVectors {
    /// The VM vector (docs/CONTRACTS.md semantics): a program, its inputs, the gas each run
    /// used, the storage it wrote (with the slot keys' pre-images) and the events.
    static func vmJSON(_ chain: Chain) -> [String: Any] {
        let s = chain.steps.last!
        let c = chain.counter
        let slots: [(String, [UInt8])] = [("count", Array("count".utf8)), ("owner", Array("owner".utf8)),
                                          ("notes[\"first\"]", Array("notes/".utf8) + ABI.encode(.string("first")))]
        let changed = Dictionary(uniqueKeysWithValues: s.stateChanges.map { ($0.key, $0.value) })
        return [
            "description": "A small contract (source below; docs/CONTRACTS.md) deployed in block \(s.block.header.height) of the vector chain by bank-2 with init(40), then called by the importer with add(2, \"first\"), then twice more: add(0, \"zero\"), which its require reverts, and add(1, \"late\") with a gas limit of 2 100, which runs out of gas (gas_used = gas_limit, PROTOCOL.md §16). For each run: the input (ABI, docs/CONTRACTS.md), the gas used (the receipt's gas_used, intrinsic included: PROTOCOL.md §16), the events; then the storage slots after the block, each with its state key (\"slot\" ‖ contract address ‖ slot key), tree key (SHA-256 of it) and the value as stored: the VM's bytes for the value, without an ABI tag (an int is 8 bytes big-endian two's complement, an address its 20 bytes: CONTRACTS.md \"Execution model\").",
            "source": counterSource, "bytecode_hex": Hex.encode(chain.counterCode), "contract": c.text,
            "runs": s.block.transactions.enumerated().map { i, tx -> [String: Any] in
                let r = s.receipts[s.scheduledCalls + i]
                var input: [UInt8] = []
                if tx.body.kind == .deployContract { input = try! DeployPayload(canonicalBytes: tx.body.payload).constructorInput }
                if tx.body.kind == .callContract { input = try! CallPayload(canonicalBytes: tx.body.payload).input }
                return ["kind": tx.body.kind.name, "input_hex": Hex.encode(input), "gas_limit": String(tx.body.gasLimit),
                        "gas_used": String(r.gasUsed), "succeeded": r.succeeded, "events": r.events.map { eventJSON($0, ["Counted"]) },
                        "receipt": receiptJSON(r, ["Counted"])]
            },
            "storage": slots.map { name, key -> [String: Any] in
                let stateKey = StateKey.slot(c, key)
                let treeKey = StateKey.hash(stateKey)
                return ["slot": name, "slot_key_hex": Hex.encode(key), "state_key_hex": Hex.encode(stateKey), "tree_key": treeKey.hex,
                        "value_hex": (changed[treeKey] ?? nil).map { Hex.encode($0) } as Any? ?? NSNull()]
            },
        ]
    }
}

/// Roots of small trees with the auditor's own tree (the vectors compare both trees).
enum StateTreeRoots {
    static func root(_ leaves: [(Hash, Hash)]) -> Hash {
        let t = StateTree()
        var changes: [Hash: Hash?] = [:]
        for (k, v) in leaves { changes[k] = v }
        return t.update(changes)
    }
}
