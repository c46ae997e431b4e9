import ChainTypes
import Ledger
import Testing

/// Hardening finding 3: validators approve one proposal — its turn in the chain's sequence of
/// governance decisions, its deadline, its action — so that a set of approvals decides once.
@Suite("Governance approvals are usable once")
struct GovernanceReplayTests {
    @Test("finding 3: an old approval set cannot freeze an account again after the validators reversed the decision")
    func finding3_approvalsCannotBeReplayed() throws {
        let f = try Fixture()
        let user = f.address(f.user(0))
        let freeze = try f.governance(.changeRole(account: user, role: .auditor), signers: 0..<3)
        #expect(try f.commit([try f.tx(f.bank(0), .changeRole, freeze)])[0].succeeded)
        #expect(try f.ledger.account(user)?.role == .auditor)
        let unfreeze = try f.governance(.changeRole(account: user, role: .exporter), signers: 1..<4)
        #expect(try f.commit([try f.tx(f.bank(1), .changeRole, unfreeze)])[0].succeeded)
        #expect(try f.ledger.account(user)?.role == .exporter)
        #expect(try f.ledger.governanceSequence() == 2)

        // Bank 3 signed neither approval of the freeze; it resubmits the old set.
        let replay = try f.commit([try f.tx(f.bank(3), .changeRole, freeze)])[0]
        #expect(replay.status == .failure(code: "governance_sequence", message:
            "governance proposal 0 was already decided; approvals are usable once, and the chain's next proposal is 2"))
        #expect(try f.ledger.account(user)?.role == .exporter)
        #expect(try f.ledger.governanceSequence() == 2)
    }

    @Test("finding 3: a proposal out of turn, past its deadline, or re-labelled under old approvals is refused")
    func finding3_proposalBindsTurnDeadlineAndAction() throws {
        let f = try Fixture()
        let user = f.address(f.user(1))
        let ahead = try f.governance(.changeRole(account: user, role: .importer), signers: 0..<3, sequence: 1)
        #expect(try f.commit([try f.tx(f.bank(0), .changeRole, ahead)])[0].failureCode == "governance_sequence")

        let late = try f.governance(.changeRole(account: user, role: .importer), signers: 0..<3,
                                    expiresAtMillis: f.ledger.head.timestampMillis + 500)
        let expired = try f.commit([try f.tx(f.bank(0), .changeRole, late)])[0]
        #expect(expired.failureCode == "governance_expired", "\(expired.status)")

        // Approvals of one action do not carry over to another with the same turn and deadline.
        var swapped = try f.governance(.changeRole(account: user, role: .importer), signers: 0..<3)
        swapped.proposal.action = .changeRole(account: user, role: .carrier)
        #expect(try f.commit([try f.tx(f.bank(0), .changeRole, swapped)])[0].failureCode == "governance_approvals")
        #expect(try f.ledger.account(user)?.role == .exporter)
        #expect(try f.ledger.governanceSequence() == 0, "nothing was decided")
    }
}

extension Receipt {
    var failureCode: String? {
        if case .failure(let code, _) = status { return code }
        return nil
    }
}
