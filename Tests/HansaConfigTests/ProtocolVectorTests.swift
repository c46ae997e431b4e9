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
            do {
                _ = try r.uvarint("v")
                try r.finish()
                Issue.record("accepted \(c["hex"]!)")
            } catch {
                #expect(error.reason.name == c["reason"] as? String, "\(c["hex"]!): \(error)")
            }
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
        var r = CanonicalReader(Hex.decode(high["signature"] as! String)!, root: "s")
        do { _ = try r.signature("s"); Issue.record("a high-S signature decoded") } catch { #expect(error.reason == .highS) }
        #expect(DecodeError.Reason.highS.name == high["reason"] as? String)
    }

    // transactions.json and blocks.json come from the vector chain: Tests/AuditTests/VectorFileTests.swift.

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
                #expect(error.reason.name == c["reason"] as? String, "\(c["name"]!)")
            }
        }
    }
}
