import ChainTypes
import Foundation
import HansaConfig
import HansaTestSupport
import Testing

/// Checks docs/vectors/*.json against the implementation, recomputing each value from its
/// inputs (not from the generator), so the published vectors and the code cannot drift.
@Suite("Protocol test vectors (docs/vectors)")
struct ProtocolVectorTests {
    static func load(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot() + "/docs/vectors/" + name))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func cases(_ name: String, _ key: String = "cases") throws -> [[String: Any]] {
        try #require(try load(name)[key] as? [[String: Any]])
    }

    @Test func filesAreUpToDate() throws {
        for (name, data) in ProtocolVectors.files() {
            let disk = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot() + "/docs/vectors/" + name))
            #expect(disk == data, "docs/vectors/\(name) is stale: run `hansa dev write-vectors`")
        }
    }

    @Test func keysAndAddresses() throws {
        for c in try Self.cases("keys.json") {
            let key = try PrivateKey(hex: c["secret"] as! String)
            #expect(key.publicKey.hex == c["public_key"] as? String)
            // address = first 20 bytes of SHA-256(0x10 ‖ "hansa/address/v1" ‖ key)
            let digest = SHA256.hash([0x10] + Array("hansa/address/v1".utf8) + key.publicKey.bytes)
            #expect("hx" + Hex.encode(digest.bytes.prefix(20)) == c["address"] as? String)
            #expect(Address(text: c["address"] as! String) == key.publicKey.address)
        }
    }

    @Test func sha256() throws {
        for c in try Self.cases("sha256.json") {
            #expect(SHA256.hash(Hex.decode(c["input_hex"] as! String)!).hex == c["digest"] as? String)
        }
    }

    @Test func uvarints() throws {
        for c in try Self.cases("uvarint.json", "valid") {
            let value = UInt64(c["value"] as! String)!
            var w = CanonicalWriter()
            w.uvarint(value)
            #expect(Hex.encode(w.bytes) == c["hex"] as? String)
            var r = CanonicalReader(Hex.decode(c["hex"] as! String)!, root: "v")
            #expect(try r.uvarint("v") == value)
            try r.finish()
        }
        for c in try Self.cases("uvarint.json", "invalid") {
            var r = CanonicalReader(Hex.decode(c["hex"] as! String)!, root: "v")
            #expect(throws: DecodeError.self) { _ = try r.uvarint("v"); try r.finish() }
        }
    }

    @Test func signatures() throws {
        let file = try Self.load("signatures.json")
        for c in try #require(file["cases"] as? [[String: Any]]) {
            let domain = try #require(SigningDomain(rawValue: c["domain"] as! String))
            let chain = ChainBinding(id: try ChainID(c["chain_id"] as! String),
                                     genesisHash: try #require(Hash(bytes: Hex.decode(c["genesis_hash"] as! String) ?? [])))
            let body = Hex.decode(c["body_hex"] as! String)!
            let key = try PrivateKey(hex: c["secret"] as! String)
            // signing message = str("hansa/sign/v1") ‖ str(tag) ‖ str(chain) ‖ body, str = 1-byte length here
            func str(_ s: String) -> [UInt8] { [UInt8(s.utf8.count)] + Array(s.utf8) }
            // string("hansa/sign/v2") ‖ string(tag) ‖ string(chain id) ‖ genesis hash ‖ body
            let message = str("hansa/sign/v2") + str(domain.rawValue) + str(chain.id.value) + chain.genesisHash.bytes + body
            #expect(Hex.encode(message) == c["signing_message_hex"] as? String)
            #expect(SHA256.hash(message).hex == c["digest"] as? String)
            let signature = try Signature(hex: c["signature"] as! String)
            #expect(key.publicKey.verify(signature, digest: SHA256.hash(message)))
            #expect(domain.sign(body, chain: chain, with: key) == signature, "RFC 6979 signatures are deterministic")
        }
        let high = try #require(file["high_s_rejected"] as? [String: Any])
        #expect(throws: CryptoError.highS) { try Signature(hex: high["signature"] as! String) }
    }

    @Test func transactions() throws {
        for c in try Self.cases("transactions.json") {
            let bytes = Hex.decode(c["encoded_hex"] as! String)!
            let tx = try Transaction(canonicalBytes: bytes)
            #expect(tx.body.chain.id.value == c["chain_id"] as? String)
            #expect(tx.body.chain.genesisHash.hex == c["genesis_hash"] as? String)
            #expect(tx.body.sender.hex == c["sender_public_key"] as? String)
            #expect(tx.sender.text == c["sender_address"] as? String)
            #expect(String(tx.body.nonce) == c["nonce"] as? String)
            #expect(tx.body.kind.name == c["kind"] as? String)
            #expect(Hex.encode(tx.body.payload) == c["payload_hex"] as? String)
            #expect(String(tx.body.gasLimit) == c["gas_limit"] as? String)
            #expect(Hex.encode(tx.body.canonicalBytes) == c["body_hex"] as? String)
            #expect(tx.signature.hex == c["signature"] as? String)
            #expect(SHA256.hash(bytes).hex == c["hash"] as? String)
            #expect(tx.verifySignature())
            #expect(tx.canonicalBytes == bytes)
        }
    }

    @Test func blocksVotesAndCertificates() throws {
        let file = try Self.load("blocks.json")
        let h = try #require(file["header"] as? [String: Any])
        let headerBytes = Hex.decode(h["encoded_hex"] as! String)!
        let header = try BlockHeader(canonicalBytes: headerBytes)
        #expect(String(header.height) == h["height"] as? String)
        #expect(header.previousHash.hex == h["previous_hash"] as? String)
        #expect(String(header.timestampMillis) == h["timestamp_ms"] as? String)
        #expect(header.stateRoot.hex == h["state_root"] as? String)
        #expect(header.receiptsRoot.hex == h["receipts_root"] as? String)
        #expect(header.proposer.text == h["proposer"] as? String)
        #expect(SHA256.hash(headerBytes).hex == h["hash"] as? String)

        let blockBytes = Hex.decode(file["block_encoded_hex"] as! String)!
        let block = try Block(canonicalBytes: blockBytes)
        #expect(block.header == header)
        #expect(block.transactions.map(\.hash.hex) == file["transaction_hashes"] as! [String])
        // RFC 6962 shape for two leaves: node(leaf(a), leaf(b)).
        let leaves = block.transactions.map { SHA256.hash([0x00] + $0.hash.bytes) }
        #expect(SHA256.hash([0x01] + leaves[0].bytes + leaves[1].bytes) == header.transactionsRoot)

        let chain = ProtocolVectors.chain
        let vote = try #require(file["commit_vote"] as? [String: Any])
        let decodedVote = try Vote(canonicalBytes: Hex.decode(vote["encoded_hex"] as! String)!)
        #expect(Hex.encode(decodedVote.signingBody) == vote["signing_body_hex"] as? String)
        #expect(SigningDomain.commit.verify(decodedVote.signature, over: decodedVote.signingBody, chain: chain,
                                            by: ProtocolVectors.key(0).publicKey))
        let certificate = try CommitCertificate(canonicalBytes: Hex.decode((file["commit_certificate"] as! [String: Any])["encoded_hex"] as! String)!)
        #expect(certificate.signers.count == 3)
        for s in certificate.signers {
            let body = Vote.signingBody(phase: .commit, view: certificate.view, height: certificate.height,
                                        blockHash: certificate.blockHash, validatorIndex: s.validatorIndex)
            #expect(SigningDomain.commit.verify(s.signature, over: body, chain: chain,
                                                by: ProtocolVectors.key(Int(s.validatorIndex)).publicKey))
        }
    }

    /// The genesis vector: the bytes decode, re-encode identically, hash to `hash`, validate,
    /// and the JSON file carries the same genesis.
    @Test func genesis() throws {
        let v = try Self.load("genesis.json")
        let hex = try #require(v["encoded_hex"] as? String)
        let bytes = try #require(Hex.decode(hex))
        let g = try Genesis(canonicalBytes: bytes)
        #expect(g.canonicalBytes == bytes)
        #expect(bytes[0] == 0x06 && bytes[1] == 3)
        #expect(SHA256.hash(bytes).hex == v["hash"] as? String)
        try g.validate()
        #expect(g.observers.count == 2 && g.observers[0].address < g.observers[1].address)
        #expect(Set(g.observers.map(\.name)) == ["auditor-node", "bank-2-replica"])
        let text = try #require(v["file"] as? String)
        let file = try GenesisFile.decode(Data(text.utf8), file: "genesis.json")
        #expect(file == g)
    }

    @Test func rejections() throws {
        for c in try Self.cases("rejections.json") {
            let bytes = Hex.decode(c["hex"] as! String)!
            do {
                switch c["type"] as! String {
                case "transaction": _ = try Transaction(canonicalBytes: bytes, root: "transaction")
                case "block_header": _ = try BlockHeader(canonicalBytes: bytes, root: "block_header")
                default: _ = try CommitCertificate(canonicalBytes: bytes, root: "commit_certificate")
                }
                Issue.record("accepted rejection vector \(c["name"]!)")
            } catch {
                #expect(error.field == c["field"] as? String, "\(c["name"]!)")
                #expect(error.offset == c["offset"] as? Int, "\(c["name"]!)")
            }
        }
    }
}
