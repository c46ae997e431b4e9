import ChainTypes
import Ledger
import Testing

/// Hardening finding 4: every signature is bound to the chain's genesis hash, not only to its
/// id, so nothing signed for one launch of a chain replays on a relaunch (or a copy) that
/// reuses the id — transactions, votes, certificates and governance approvals alike.
@Suite("No replay across chains that share an id")
struct ChainReplayTests {
    /// The dev chain, and the same chain relaunched a day later under the same id.
    static func launches() -> (DevChain, DevChain) {
        let first = DevChain(users: 6, depositPerUser: 1_000_00)
        var genesis = first.genesis
        genesis.genesisTimeMillis += 86_400_000
        return (first, DevChain(genesis: genesis, validatorKeys: first.validatorKeys, userKeys: first.userKeys))
    }

    @Test("finding 4: a transaction signed on the first launch is refused on the relaunch, whose nonces start again at 0")
    func finding4_transactionsDoNotReplay() throws {
        let (first, second) = Self.launches()
        #expect(first.genesis.chain == second.genesis.chain && first.binding.genesisHash != second.binding.genesisHash)
        let old = first.transfer(from: 0, to: 1, amount: 500, nonce: 0)
        let relaunched = try Ledger(store: MemoryStore(), genesis: second.genesis)
        let pool = Mempool(executor: relaunched.executor)
        #expect(throws: TransactionError.wrongGenesis(expected: second.binding.genesisHash, got: first.binding.genesisHash)) {
            try pool.add(old, state: relaunched.store, nowMillis: 0)
        }
        #expect(throws: LedgerError.self) { _ = try second.nextBlock(on: relaunched, [old]) }
        // Relabelled with the relaunch's genesis hash, the old signature no longer verifies.
        var body = old.body
        body.chain = second.binding
        #expect(!Transaction(body: body, signature: old.signature).verifySignature())
    }

    @Test("finding 4: votes, certificates and governance approvals of the first launch do not verify on the relaunch")
    func finding4_consensusAndGovernanceSignaturesDoNotReplay() throws {
        let (first, second) = Self.launches()
        let ledger = try Ledger(store: MemoryStore(), genesis: first.genesis)
        let (block, certificate) = try first.nextBlock(on: ledger, [])
        try certificate.verify(in: first.genesis.validators, chain: first.binding)
        #expect(throws: CertificateError.self) { try certificate.verify(in: second.genesis.validators, chain: second.binding) }
        let vote = Vote.make(phase: .prepare, view: 0, height: 1, blockHash: block.hash, validatorIndex: 0, chain: first.binding,
                             key: first.validatorKeys[0])
        #expect(vote.verify(in: first.genesis.validators, chain: first.binding))
        #expect(!vote.verify(in: second.genesis.validators, chain: second.binding))
        let proposal = GovernanceProposal(sequence: 0, expiresAtMillis: .max, action: .changeRole(account: first.userKeys[0].publicKey.address, role: .auditor))
        let approval = proposal.approve(as: 0, key: first.validatorKeys[0], chain: first.binding)
        let body = proposal.canonicalBytes
        let key = first.validatorKeys[0].publicKey
        #expect(SigningDomain.governance.verify(approval.signature, over: body, chain: first.binding, by: key))
        #expect(!SigningDomain.governance.verify(approval.signature, over: body, chain: second.binding, by: key))
    }
}
