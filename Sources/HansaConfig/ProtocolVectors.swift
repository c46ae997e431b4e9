import ChainTypes
import Foundation

/// The machine-readable test vectors of docs/PROTOCOL.md, written to docs/vectors/ by
/// `hansa dev write-vectors`. Everything is derived from fixed keys and fixed values, and
/// signatures are deterministic (RFC 6979), so regenerating gives identical files.
/// The Swift tests check the files independently of this generator.
public enum ProtocolVectors {
    /// Test key i: secret = SHA-256 of the UTF-8 text "hansa test vector key i". Never use them for value.
    public static func key(_ i: Int) -> PrivateKey {
        try! PrivateKey(secret: SHA256.hash(utf8: "hansa test vector key \(i)").bytes)
    }

    /// The vectors' chain: id "hansa-vectors" and, as its genesis hash, SHA-256("hansa vectors genesis").
    public static let chain = ChainBinding(id: try! ChainID("hansa-vectors"), genesisHash: SHA256.hash(utf8: "hansa vectors genesis"))

    /// File name → pretty JSON with sorted keys. The vectors that need execution —
    /// transactions, blocks, payloads, receipts, the state tree and the whole vector chain —
    /// come from `ChainVectors` (the Audit target), which runs the ledger.
    public static func files() -> [(String, Data)] {
        [("keys.json", keys()), ("sha256.json", sha256()), ("uvarint.json", uvarint()),
         ("signatures.json", signatures()), ("genesis.json", genesis()), ("rejections.json", rejections())].map { ($0.0, jsonData($0.1)) }
    }

    /// Pretty JSON with sorted keys and a final newline (every vector file's form).
    public static func jsonData(_ object: Any) -> Data {
        var data = try! JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        data.append(0x0a)
        return data
    }

    static func keys() -> Any {
        ["description": "secret → compressed public key → address. address = hx ‖ hex(first 20 bytes of SHA-256(uvarint(16) ‖ \"hansa/address/v1\" ‖ public_key)).",
         "cases": (0..<3).map { i -> [String: Any] in
            let k = key(i)
            return ["secret": Hex.encode(k.secret), "public_key": k.publicKey.hex, "address": k.publicKey.address.text]
        }] as [String: Any]
    }

    static func sha256() -> Any {
        let inputs: [[UInt8]] = [[], Array("abc".utf8), Array(repeating: 0x61, count: 200), Array(0...255)]
        return ["description": "SHA-256 of input_hex.",
                "cases": inputs.map { ["input_hex": Hex.encode($0), "digest": SHA256.hash($0).hex] }] as [String: Any]
    }

    static func uvarint() -> Any {
        let values: [UInt64] = [0, 1, 127, 128, 255, 300, 16_383, 16_384, UInt64(UInt32.max), UInt64.max]
        let valid = values.map { v -> [String: Any] in
            var w = CanonicalWriter()
            w.uvarint(v)
            return ["value": String(v), "hex": Hex.encode(w.bytes)]
        }
        let invalid: [[String: Any]] = [
            ["hex": "8000", "reason": "non_canonical"], ["hex": "ff00", "reason": "non_canonical"],
            ["hex": "808000", "reason": "non_canonical"], ["hex": "80", "reason": "unexpected_end"],
            ["hex": "ffffffffffffffffff02", "reason": "overflow"], ["hex": "ffffffffffffffffff8001", "reason": "overflow"],
        ]
        return ["description": "Unsigned LEB128, shortest form only. value is a decimal string (it may exceed 2^53).",
                "valid": valid, "invalid": invalid] as [String: Any]
    }

    static func signatures() -> Any {
        let body = Array("hello, hansa".utf8)
        let cases = SigningDomain.allCases.map { domain -> [String: Any] in
            var m = CanonicalWriter()
            m.string("hansa/sign/v2"); m.string(domain.rawValue); m.string(chain.id.value); m.hash(chain.genesisHash); m.fixed(body)
            let digest = domain.digest(chain: chain, body: body)
            return ["domain": domain.rawValue, "chain_id": chain.id.value, "genesis_hash": chain.genesisHash.hex, "secret": Hex.encode(key(0).secret),
                    "body_hex": Hex.encode(body), "signing_message_hex": Hex.encode(m.bytes), "digest": digest.hex,
                    "signature": domain.sign(body, chain: chain, with: key(0)).hex]
        }
        // The same signature with s replaced by n − s: valid ECDSA, refused as high-S.
        let low = cases[0]["signature"] as! String
        return ["description": "ECDSA secp256k1 over SHA-256(signing message), RFC 6979 nonces, 64-byte compact r‖s, low-S.",
                "cases": cases,
                "high_s_rejected": ["signature": highS(low), "reason": "high_s"]] as [String: Any]
    }

    /// Replaces s by n − s.
    static func highS(_ hex: String) -> String {
        let bytes = Hex.decode(hex)!
        let n = Hex.decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")!
        var s = Array(bytes[32...])
        var borrow = 0
        for i in (0..<32).reversed() {
            let d = Int(n[i]) - Int(s[i]) - borrow
            s[i] = UInt8((d + 256) % 256)
            borrow = d < 0 ? 1 : 0
        }
        return Hex.encode(Array(bytes[..<32]) + s)
    }

    /// The base encoding the rejection vectors and the decoder sweeps mutate: a well-formed
    /// transaction whose payload is plain text (they are refused before a payload matters).
    /// The valid transactions of every kind are in transactions.json, from the vector chain.
    public static func sampleTransaction(nonce: UInt64 = 7) -> Transaction {
        TransactionBody(chain: chain, sender: key(1).publicKey, nonce: nonce, kind: .transfer,
                        payload: Array("to hx…: 1250.00 USD".utf8), gasLimit: 50_000).signed(with: key(1))
    }

    public static func sampleBlock() -> Block {
        let txs = [sampleTransaction(nonce: 7), sampleTransaction(nonce: 8)]
        let header = BlockHeader(height: 1, previousHash: SHA256.hash(utf8: "genesis"), timestampMillis: 1_764_028_800_000,
                                 transactionsRoot: Block.transactionsRoot(txs), stateRoot: SHA256.hash(utf8: "state"),
                                 receiptsRoot: SHA256.hash(utf8: "receipts"), proposer: key(0).publicKey.address, view: 0)
        return Block(header: header, transactions: txs)
    }

    /// A version-3 genesis: four validator banks (test keys 0–3; 0 and 1 pin a TLS key), an
    /// importer of bank 0 (key 4), an auditor observer and a replica of bank 2 (node keys 5, 6).
    public static func sampleGenesis() -> Genesis {
        let banks = (0..<4).map { key($0).publicKey }
        let validators = banks.enumerated().map { i, k in
            Validator(name: "bank-\(i)", publicKey: k, p2pAddress: "10.0.0.\(i + 1):26656",
                      tlsSPKISHA256: i < 2 ? SHA256.hash(utf8: "tls key of bank-\(i)") : nil)
        }
        var participants = validators.map { Participant(name: $0.name, publicKey: $0.publicKey, role: .validatorBank, bank: nil) }
        participants.append(Participant(name: "importer-1", publicKey: key(4).publicKey, role: .importer, bank: banks[0].address))
        let usd = try! CurrencyCode("USD")
        return Genesis(
            chain: chain.id, genesisTimeMillis: 1_764_028_800_000, validators: try! ValidatorSet(validators),
            participants: participants,
            observers: [
                Observer(name: "auditor-node", nodeKey: key(5).publicKey, role: .auditor, bank: nil,
                         tlsSPKISHA256: SHA256.hash(utf8: "tls key of auditor-node")),
                Observer(name: "bank-2-replica", nodeKey: key(6).publicKey, role: .replica, bank: banks[2].address,
                         tlsSPKISHA256: SHA256.hash(utf8: "tls key of bank-2-replica")),
            ],
            currencies: [Currency(code: usd, decimals: 2, issuers: [banks[0].address, banks[2].address])],
            deposits: [Deposit(account: key(4).publicKey.address, currency: usd, amount: 125_000_00)],
            consensus: .standard, governanceThreshold: 3)
    }

    static func genesis() -> Any {
        let g = sampleGenesis()
        return ["description": "A version-3 genesis (docs/PROTOCOL.md §6): its canonical encoding, hash = SHA-256(encoding), and the genesis file (§6.1) that carries it, as one JSON string (the file's exact text). Sets are sorted by address; observers by the address of their node key.",
                "encoded_hex": Hex.encode(g.canonicalBytes), "hash": g.hash.hex,
                "file": String(decoding: GenesisFile.encode(g), as: UTF8.self)] as [String: Any]
    }

    static func rejections() -> Any {
        let tx = sampleTransaction().canonicalBytes
        var cases: [[String: Any]] = []
        func add(_ name: String, _ type: String, _ bytes: [UInt8]) {
            let error: DecodeError? = switch type {
            case "transaction": Self.decodeError { (b: [UInt8]) throws(DecodeError) in _ = try Transaction(canonicalBytes: b, root: "transaction") }(bytes)
            case "block_header": Self.decodeError { (b: [UInt8]) throws(DecodeError) in _ = try BlockHeader(canonicalBytes: b, root: "block_header") }(bytes)
            default: Self.decodeError { (b: [UInt8]) throws(DecodeError) in _ = try CommitCertificate(canonicalBytes: b, root: "commit_certificate") }(bytes)
            }
            guard let error else { preconditionFailure("rejection vector \(name) was accepted") }
            cases.append(["name": name, "type": type, "hex": Hex.encode(bytes), "field": error.field, "offset": error.offset,
                          "reason": error.reason.name, "message": error.description])
        }
        add("trailing byte", "transaction", tx + [0])
        add("truncated", "transaction", Array(tx.dropLast()))
        add("unknown version", "transaction", [tx[0], 3] + tx[2...])
        add("wrong type tag", "transaction", [TypeTag.blockHeader.rawValue] + tx[1...])
        // Offset 2 is the chain id's length; the genesis hash (32 bytes) and the 33-byte sender
        // key follow it, then the nonce.
        let nonceAt = 2 + 1 + chain.id.value.utf8.count + 32 + 33
        add("non-canonical nonce", "transaction", Array(tx[..<nonceAt]) + [0x87, 0x00] + tx[(nonceAt + 1)...])
        add("unknown kind", "transaction", Array(tx[..<(nonceAt + 1)]) + [99] + tx[(nonceAt + 2)...])
        var highS = tx
        highS.replaceSubrange((tx.count - 64)..., with: Hex.decode(Self.highS(Hex.encode(tx.suffix(64))))!)
        add("high-S signature", "transaction", highS)
        return ["description": "Encodings every implementation must refuse, with the stable reason (docs/PROTOCOL.md §1 \"Refusal reasons\") and the field and byte offset Hansa reports.",
                "cases": cases] as [String: Any]
    }

    static func decodeError(_ body: @escaping ([UInt8]) throws(DecodeError) -> Void) -> ([UInt8]) -> DecodeError? {
        { bytes in
            do { try body(bytes); return nil } catch let error as DecodeError { return error } catch { return nil }
        }
    }
}
