import ChainTypes
import Foundation
import HansaCrypto
@testable import PBFT
import Testing

/// docs/vectors/consensus.json: every message decodes, re-encodes to the same bytes, has the
/// signing body given, and its signature verifies in its domain by the key given (§11).
@Suite struct ConsensusVectorTests {
    @Test func messagesDecodeAndVerify() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/vectors/consensus.json")
        let file = try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as! [String: Any]
        let chain = ChainBinding(id: try ChainID(file["chain_id"] as! String), genesisHash: Hash(hex: file["genesis_hash"] as! String)!)
        var seen: [String] = []
        for m in file["messages"] as! [[String: Any]] {
            let bytes = Hex.decode(m["encoded_hex"] as! String)!
            let message = try ConsensusMessage(canonicalBytes: bytes)
            #expect(message.canonicalBytes == bytes)
            seen.append(m["message"] as! String)
            let key = (m["signer_public_key"] as? String).map { try! PublicKey(hex: $0) }
            let body = (m["signing_body_hex"] as? String).map { Hex.decode($0)! }
            func check(_ domain: SigningDomain, _ signingBody: [UInt8], _ signature: Signature, _ index: UInt16) {
                #expect(signingBody == body, "\(m["message"]!)")
                #expect(Int(index) == m["signer_index"] as? Int)
                #expect(domain.verify(signature, over: signingBody, chain: chain, by: key!), "\(m["message"]!)")
            }
            switch message {
            case .prePrepare(let p): check(.prePrepare, p.signingBody, p.signature, p.proposerIndex)
            case .vote(let v): check(v.phase.domain, v.signingBody, v.signature, v.validatorIndex)
            case .checkpoint(let c):
                check(.checkpoint, Checkpoint.signingBody(height: c.height, blockHash: c.blockHash, validatorIndex: c.validatorIndex), c.signature, c.validatorIndex)
            case .viewChange(let v):
                check(.viewChange, v.signingBody, v.signature, v.validatorIndex)
                #expect(v.preparedBlock?.hash == v.prepared?.blockHash)
            case .newView(let n):
                check(.newView, n.signingBody, n.signature, n.primaryIndex)
                #expect(n.viewChanges.allSatisfy { $0.preparedBlock == nil })
                #expect(n.primaryIndex == UInt16(n.view % 4))
            case .newViewRequest: #expect(body == nil)
            }
        }
        #expect(seen == ["pre-prepare", "prepare", "commit", "checkpoint", "view-change", "new-view", "new-view request"])
    }
}
