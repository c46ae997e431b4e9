import ChainTypes
import PBFT

/// One simulated validator: while up, a `ReplicaDriver` over its application (the only code
/// that performs its replica's actions); across crashes, its chain and its disk; for a
/// byzantine validator, the rewriting of its output.
final class SimNode {
    let index: Int
    let address: Address
    let crypto: any ConsensusCrypto
    /// The committed chain: the fast application's ledger, or the record of what the real
    /// ledger committed (kept equal to it: truncated to the reopened head on restart).
    let chain: SimLedger
    let disk = SimDisk()
    /// This incarnation's driver and the application it runs (the same object as
    /// `driver.app`); nil while the node is down.
    var driver: (any SimDriver)?
    var app: (any SimApp)?
    var byzantine: ByzantineRewriter?
    /// A crash armed at "after `step` returns, send only the first k messages" (the other
    /// crash point, at the k-th store write, is armed in `disk.faults`).
    var crashAfterSends: Int?
    var committedAfterHeal: Int?
    /// The clock its replica last ticked with (0 before the first tick of an incarnation):
    /// the `nowMillis` the replica judges proposals by.
    var clockMillis: UInt64 = 0

    init(index: Int, address: Address, crypto: any ConsensusCrypto, genesis: ChainTip) {
        self.index = index
        self.address = address
        self.crypto = crypto
        chain = SimLedger(genesis: genesis)
    }

    var isUp: Bool { driver != nil }
    var isHonest: Bool { byzantine == nil }
    var replica: PBFTReplica? { driver?.replica }
    var height: UInt64 { chain.height }

    /// The node dies: the driver, its replica and the mempool are gone; chain and disk stay.
    func crash() {
        driver = nil
        app = nil
        crashAfterSends = nil
        disk.faults.armed = nil
        disk.store?.crashed()
    }
}
