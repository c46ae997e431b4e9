import ChainTypes

/// The consensus-message vectors of docs/PROTOCOL.md §11 (docs/vectors/consensus.json): one
/// message of each type, signed by the validator keys given in index order, over blocks of
/// the vector chain. `hansa dev write-vectors` writes them; PBFTTests check the file.
public enum ConsensusVectors {
    /// `blocks`: two consecutive blocks; `certificate`: the first one's commit certificate;
    /// `keys`: the validators' keys, key i signing as index i of the address-sorted set.
    public static func json(chain: ChainBinding, blocks: [Block], certificate: CommitCertificate, keys: [PrivateKey]) -> [String: Any] {
        precondition(blocks.count >= 2 && keys.count >= 4)
        let (first, second) = (blocks[0], blocks[1])
        func sign(_ domain: SigningDomain, _ body: [UInt8], _ i: Int) -> Signature { domain.sign(body, chain: chain, with: keys[i]) }
        func entry(_ what: String, _ m: ConsensusMessage, body: [UInt8]?, signer: Int?) -> [String: Any] {
            var o: [String: Any] = ["message": what, "encoded_hex": Hex.encode(m.canonicalBytes)]
            if let body { o["signing_body_hex"] = Hex.encode(body) }
            if let signer { o["signer_index"] = signer; o["signer_public_key"] = keys[signer].publicKey.hex }
            return o
        }
        // Normal case, view 0: validator 0 proposes block 1; 1 prepares; 2 commits; 3 checkpoints.
        let ppBody = PrePrepare.signingBody(view: 0, height: first.header.height, blockHash: first.hash, proposerIndex: 0)
        let prePrepare = PrePrepare(view: 0, height: first.header.height, block: first, proposerIndex: 0, signature: sign(.prePrepare, ppBody, 0))
        let prepare = Vote.make(phase: .prepare, view: 0, height: first.header.height, blockHash: first.hash, validatorIndex: 1, chain: chain, key: keys[1])
        let commit = Vote.make(phase: .commit, view: 0, height: first.header.height, blockHash: first.hash, validatorIndex: 2, chain: chain, key: keys[2])
        let cpBody = Checkpoint.signingBody(height: first.header.height, blockHash: first.hash, validatorIndex: 3)
        let checkpoint = Checkpoint(height: first.header.height, blockHash: first.hash, validatorIndex: 3, signature: sign(.checkpoint, cpBody, 3))
        // A view change to view 1: block 2 was prepared in view 0 by validators 0, 1, 2 but not committed.
        let prepared = PreparedCertificate(view: 0, height: second.header.height, blockHash: second.hash, signers: (0..<3).map { i in
            CommitCertificate.Signer(validatorIndex: UInt16(i), signature: Vote.make(phase: .prepare, view: 0, height: second.header.height,
                                                                                  blockHash: second.hash, validatorIndex: UInt16(i), chain: chain, key: keys[i]).signature)
        })
        func viewChange(_ i: Int) -> ViewChange {
            let body = ViewChange.signingBody(newView: 1, validatorIndex: UInt16(i), highestCommit: certificate, prepared: prepared)
            return ViewChange(newView: 1, validatorIndex: UInt16(i), highestCommit: certificate, prepared: prepared,
                              signature: sign(.viewChange, body, i), preparedBlock: second)
        }
        let changes = (1..<4).map(viewChange)
        // The new primary (view 1 mod 4 = index 1) re-proposes block 2 in view 1.
        let rpBody = PrePrepare.signingBody(view: 1, height: second.header.height, blockHash: second.hash, proposerIndex: 1)
        let reproposal = PrePrepare(view: 1, height: second.header.height, block: second, proposerIndex: 1, signature: sign(.prePrepare, rpBody, 1))
        let summaries = changes.map(\.summary)
        let nvBody = NewView.signingBody(view: 1, primaryIndex: 1, viewChanges: summaries, reproposal: reproposal)
        let newView = NewView(view: 1, primaryIndex: 1, viewChanges: summaries, reproposal: reproposal, signature: sign(.newView, nvBody, 1))
        return [
            "description": """
                One consensus message of each type (docs/PROTOCOL.md §11) on the vector chain (chain.json): blocks 1 and 2, \
                signed by the validators at the given indices of the address-sorted set. Each signature is the domain's \
                signature (§4) over signing_body_hex. The view-change carries the commit certificate of block 1 and a \
                prepared certificate of block 2 (with the block beside the signed part); the new-view holds the view-changes \
                of validators 1, 2, 3 without their blocks and re-proposes block 2 in view 1.
                """,
            "chain_id": chain.id.value, "genesis_hash": chain.genesisHash.hex,
            "messages": [
                entry("pre-prepare", .prePrepare(prePrepare), body: ppBody, signer: 0),
                entry("prepare", .vote(prepare), body: prepare.signingBody, signer: 1),
                entry("commit", .vote(commit), body: commit.signingBody, signer: 2),
                entry("checkpoint", .checkpoint(checkpoint), body: cpBody, signer: 3),
                entry("view-change", .viewChange(changes[0]), body: changes[0].signingBody, signer: 1),
                entry("new-view", .newView(newView), body: nvBody, signer: 1),
                entry("new-view request", .newViewRequest(NewViewRequest(view: 1)), body: nil, signer: nil),
            ],
            "prepared_certificate_hex": Hex.encode(prepared.canonicalBytes),
        ]
    }
}
