import ChainTypes
import HansaTestSupport
import Testing
@testable import Ledger

/// The head-account cache may only make executions faster, never different.
@Suite("HeadAccounts")
struct HeadAccountsTests {
    /// Blocks of random transfers (some overdrawing, so failing) and mints are built on a
    /// long-lived ledger, whose cache carries accounts from block to block, and each is
    /// validated by a ledger reopened from its own store for that block alone (an empty
    /// cache): a stale cached account would give another state root, refused there.
    @Test("a long-lived ledger and freshly opened ones agree on every block", arguments: [1, 2] as [UInt64])
    func agreesWithFreshLedgers(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let f = try Fixture()
        let other = MemoryStore()
        _ = try Ledger(store: other, genesis: f.dev.genesis)
        var nonces = [UInt64](repeating: 0, count: f.dev.userKeys.count)
        var bankNonce: UInt64 = 0
        for height in 1...30 {
            var txs: [Transaction] = []
            for _ in 0..<Int(1 + rng.next() % 12) {
                let from = Int(rng.next() % UInt64(nonces.count))
                let to = f.address(f.user(Int(rng.next() % UInt64(nonces.count))))
                let amount = rng.next() % 4 == 0 ? 5_000_000 : 1 + rng.next() % 500  // a quarter overdraw
                txs.append(try f.transfer(f.user(from), to: to, amount, nonce: nonces[from]))
                nonces[from] += 1
            }
            if height % 5 == 0 {
                let customer = f.address(f.user(Int(rng.next() % UInt64(nonces.count))))
                txs.append(try f.tx(f.bank(0), .mint, DepositPayload(account: customer, currency: f.usd, amount: 10_000), nonce: bankNonce))
                bankNonce += 1
            }
            let (block, cert) = try f.dev.nextBlock(on: f.ledger, txs)
            try f.ledger.apply(block, certificate: cert)
            let fresh = try Ledger(store: other, genesis: f.dev.genesis)
            let refusal = try fresh.rejection(of: block)
            try #require(refusal == nil, "seed \(seed), height \(height): \(String(describing: refusal))")
            try fresh.apply(block, certificate: cert)
        }
        for key in f.dev.userKeys {
            let a = key.publicKey.address
            #expect(try f.ledger.account(a) == (try Ledger(store: other, genesis: f.dev.genesis).account(a)))
        }
    }

    /// Inside a block, a raw write to an account's key replaces what the overlay (and so the
    /// head cache) had decoded; the written account is what a commit hands the cache.
    @Test func rawWriteReplacesTheCachedAccount() throws {
        let f = try Fixture()
        let head = HeadAccounts()
        let a = f.address(f.user(0))
        let overlay = StateOverlay(store: f.ledger.store, headAccounts: head)
        let before = try #require(try overlay.account(a))
        #expect(head.count == 1, "read from the head state, so remembered")
        var changed = before
        changed.setBalance(f.usd, 7)
        overlay.set(StateKey.account(a), changed.canonicalBytes)
        #expect(try overlay.account(a) == changed)
        #expect(overlay.writtenAccounts == [StateKey.hash(StateKey.account(a)): changed])
        // A second overlay on the same head still sees the head's account.
        #expect(try StateOverlay(store: f.ledger.store, headAccounts: head).account(a) == before)

        head.commit(changed: overlay.changes.keys, accounts: overlay.writtenAccounts)
        #expect(try StateOverlay(store: MemoryStore(), headAccounts: head).account(a) == changed, "served from the cache")
    }

    /// A revert forgets what the overlay decoded: the written accounts hold only what a
    /// remaining `setAccount` wrote.
    @Test func revertDropsWrittenAccounts() throws {
        let f = try Fixture()
        let a = f.address(f.user(0))
        let overlay = StateOverlay(store: f.ledger.store, headAccounts: HeadAccounts())
        var account = try #require(try overlay.account(a))
        let mark = overlay.mark()
        account.setBalance(f.usd, 1)
        overlay.setAccount(a, account)
        overlay.revert(to: mark)
        #expect(overlay.writtenAccounts.isEmpty)
        #expect(try overlay.account(a)?.balance(f.usd) == Fixture.chain.genesis.deposits.first { $0.account == a }?.amount)
    }

    @Test func bounded() {
        let head = HeadAccounts(capacity: 10)
        for i in 0..<100 { head.remember(SHA256.hash(utf8: "\(i)"), Account(publicKey: nil, role: .exporter, bank: nil)) }
        #expect(head.count <= 20)
    }
}
