import Audit
import ChainTypes
import Foundation
import HansaConfig
import HansaCrypto
import HansaTestSupport
import Ledger
import Testing

/// The execution vectors of docs/vectors/ (written by `hansa dev write-vectors` from
/// `ChainVectors`): up to date, and each value checked again here from its inputs, by the
/// rules of docs/PROTOCOL.md rather than by the generator.
@Suite struct VectorFileTests {
    static let dir = repositoryRoot() + "/docs/vectors/"

    static func load(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + name))) as! [String: Any]
    }

    static func hex(_ v: Any?) -> [UInt8] { Hex.decode(v as! String)! }

    @Test func filesAreUpToDate() throws {
        for (name, data) in try ChainVectors.files(try ChainVectors.build(contractSource: repositoryRoot() + "/contracts/letter_of_credit.hc")) {
            let stored = try Data(contentsOf: URL(fileURLWithPath: Self.dir + name))
            #expect(stored == data, "docs/vectors/\(name) is stale: run hansa dev write-vectors")
        }
    }

    @Test func theVectorChainVerifiesFromItsGenesisFile() throws {
        let genesis = try GenesisFile.read(Self.dir + "chain-genesis.json")
        let summary = try Verifier(genesis: genesis).verify(try ArchiveSource(path: Self.dir + "chain.hansa-archive"))
        let chain = try Self.load("chain.json")
        let blocks = chain["blocks"] as! [[String: Any]]
        #expect(summary.blocks == UInt64(blocks.count))
        #expect(summary.stateRoot.hex == (blocks.last!["header"] as! [String: Any])["state_root"] as? String)
        #expect(summary.scheduledCalls == 1)
        // Every stored block, certificate and receipt list in chain.json is the archive's.
        let source = try ArchiveSource(path: Self.dir + "chain.hansa-archive")
        for b in blocks {
            let s = try #require(try source.next())
            #expect(Hex.encode(s.block) == b["block_encoded_hex"] as? String)
            #expect(Hex.encode(s.certificate!) == (b["certificate"] as! [String: Any])["encoded_hex"] as? String)
            #expect(Hex.encode(s.receipts!) == b["receipts_encoded_hex"] as? String)
        }
        #expect((chain["genesis"] as! [String: Any])["hash"] as? String == genesis.hash.hex)
        // The state changes of each block, applied to the genesis state, give its state root.
        let state = try Verifier(genesis: genesis).genesisState()
        #expect(state.rootHash.hex == (chain["genesis"] as! [String: Any])["state_root"] as? String)
        let tree = state.tree
        for b in blocks {
            var changes: [Hash: Hash?] = [:]
            for c in b["state_changes"] as! [[String: Any]] {
                let key = Hash(hex: c["tree_key"] as! String)!
                changes[key] = (c["value_hex"] as? String).map { SHA256.hash(Hex.decode($0)!) } ?? .some(nil)
            }
            #expect(tree.update(changes).hex == (b["header"] as! [String: Any])["state_root"] as? String)
        }
    }

    /// A validator's index is its position in the address-sorted set (§6): the certificate of
    /// blocks.json verifies with the keys in that order.
    @Test func theBlockCertificateUsesAddressOrder() throws {
        let file = try Self.load("blocks.json")
        let genesis = try GenesisFile.read(Self.dir + "chain-genesis.json")
        let sorted = genesis.validators.validators.sorted { $0.address < $1.address }
        let certificate = try CommitCertificate(canonicalBytes: Self.hex((file["commit_certificate"] as! [String: Any])["encoded_hex"]))
        let header = try BlockHeader(canonicalBytes: Self.hex((file["header"] as! [String: Any])["encoded_hex"]))
        #expect(certificate.blockHash == header.hash)
        for s in certificate.signers {
            let body = Vote.signingBody(phase: .commit, view: certificate.view, height: certificate.height, blockHash: certificate.blockHash,
                                        validatorIndex: s.validatorIndex)
            #expect(SigningDomain.commit.verify(s.signature, over: body, chain: genesis.binding, by: sorted[Int(s.validatorIndex)].publicKey))
        }
        let vote = file["commit_vote"] as! [String: Any]
        #expect(vote["signer_public_key"] as? String == sorted[vote["validator_index"] as! Int].publicKey.hex)
    }

    @Test func transactionsAreValidOnTheChainGenesis() throws {
        let genesis = try GenesisFile.read(Self.dir + "chain-genesis.json")
        let cases = try Self.load("transactions.json")["cases"] as! [[String: Any]]
        #expect(Set(cases.map { $0["kind"] as! String }).isSuperset(of: ["transfer", "mint", "register_participant", "deploy_contract", "call_contract"]))
        for c in cases {
            let tx = try Transaction(canonicalBytes: Self.hex(c["encoded_hex"]))
            #expect(tx.body.chain == genesis.binding)
            #expect(tx.verifySignature())
            #expect(SHA256.hash(tx.canonicalBytes).hex == c["hash"] as? String)
            #expect(Hex.encode(tx.body.canonicalBytes) == c["body_hex"] as? String)
        }
        for c in try Self.load("payloads.json")["cases"] as! [[String: Any]] where c["kind"] as? String == "transfer" {
            let p = try TransferPayload(canonicalBytes: Self.hex(c["encoded_hex"]))
            #expect(p.to.text == (c["fields"] as! [String: Any])["to"] as? String)
        }
    }

    /// RFC 6962 roots, recomputed here with a plain recursive definition.
    @Test func merkleRoots() throws {
        func root(_ leaves: [Hash]) -> Hash {
            if leaves.isEmpty { return SHA256.hash([UInt8]()) }
            if leaves.count == 1 { return SHA256.hash([0x00] + leaves[0].bytes) }
            var k = 1
            while k * 2 < leaves.count { k *= 2 }
            return SHA256.hash([0x01] + root(Array(leaves[..<k])).bytes + root(Array(leaves[k...])).bytes)
        }
        for c in try Self.load("merkle.json")["cases"] as! [[String: Any]] {
            let leaves = (c["leaves"] as! [String]).map { Hash(hex: $0)! }
            #expect(root(leaves).hex == c["root"] as? String, "n = \(leaves.count)")
            if let path = c["audit_path"] as? [String: Any] {
                #expect(MerkleTree.verify(leaf: leaves.last!, index: path["index"] as! Int, size: leaves.count,
                                          path: (path["path"] as! [String]).map { Hash(hex: $0)! }, root: Hash(hex: c["root"] as! String)!))
            }
        }
    }

    @Test func stateTreeProofs() throws {
        let file = try Self.load("state_tree.json")
        let root = Hash(hex: file["root"] as! String)!
        let leaves = (file["leaves"] as! [[String: String]]).map { (Hash(hex: $0["key"]!)!, Hash(hex: $0["value_hash"]!)!) }
        #expect(StateTree().update(Dictionary(uniqueKeysWithValues: leaves.map { ($0.0, Optional($0.1)) })) == root)
        func check(_ name: String, valueHash: Hash?) throws {
            let p = file[name] as! [String: Any]
            let key = Hash(hex: p["key"] as! String)!
            let siblings = (p["siblings"] as! [String]).map { Hash(hex: $0)! }
            let leaf = (p["leaf"] as? [String: String]).map { (key: Hash(hex: $0["key"]!)!, valueHash: Hash(hex: $0["value_hash"]!)!) }
            #expect(StateProof.problem(root: root, key: key, valueHash: valueHash, siblings: siblings, leaf: leaf) == nil, "\(name)")
            let decoded = try SparseMerkleProof(canonicalBytes: Self.hex(p["encoded_hex"]))
            #expect(decoded.siblings == siblings && decoded.leaf?.key == leaf?.key)
            // The same proof does not prove another value.
            #expect(StateProof.problem(root: root, key: key, valueHash: SHA256.hash(utf8: "other"), siblings: siblings, leaf: leaf) != nil)
        }
        try check("inclusion", valueHash: leaves[2].1)
        try check("absence_at_other_leaf", valueHash: nil)
        try check("absence_at_empty_subtree", valueHash: nil)
    }

    @Test func receiptsRoots() throws {
        for b in try Self.load("receipts.json")["blocks"] as! [[String: Any]] {
            let receipts = b["receipts"] as! [[String: Any]]
            let hashes = receipts.map { SHA256.hash(Self.hex($0["encoded_hex"])) }
            #expect(hashes.map(\.hex) == receipts.map { $0["hash"] as! String })
            #expect(MerkleTree.root(leaves: hashes).hex == b["receipts_root"] as? String)
            #expect(try ReceiptList(canonicalBytes: Self.hex(b["stored_list_hex"])).receipts.count == receipts.count)
        }
    }

    @Test func theVMVector() throws {
        let file = try Self.load("vm.json")
        let runs = file["runs"] as! [[String: Any]]
        #expect(runs.map { $0["succeeded"] as! Bool } == [true, true, false, false])
        #expect((runs[2]["receipt"] as! [String: Any])["error"] as? String == "contract: revert: add a positive number")
        #expect(runs[3]["gas_used"] as? String == runs[3]["gas_limit"] as? String)
        // Intrinsic gas (PROTOCOL.md §16) is part of gas_used: 2 000 for a call.
        #expect(UInt64(runs[1]["gas_used"] as! String)! > 2_000)
        let storage = Dictionary(uniqueKeysWithValues: (file["storage"] as! [[String: Any]]).map { ($0["slot"] as! String, $0) })
        for (_, slot) in storage {
            #expect(SHA256.hash(Self.hex(slot["state_key_hex"])).hex == slot["tree_key"] as? String)
        }
        // init(40) then add(2, "first"): count and notes["first"] hold 42 as 8 bytes big-endian.
        #expect(storage["count"]?["value_hex"] as? String == "000000000000002a")
        #expect(storage["notes[\"first\"]"]?["value_hex"] as? String == "000000000000002a")
        let event = try #require((runs[1]["events"] as! [[String: Any]]).first)
        #expect(event["topics"] as? [String] == [SHA256.hash(utf8: "Counted").hex])
        #expect((event["data_hex"] as! String).hasSuffix("01000000000000002a"))
    }
}
