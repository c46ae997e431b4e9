@testable import Simulator
import Testing

/// The places a real node can die mid-step (docs/PROTOCOL.md §14): the store crashes at its
/// k-th write — the durable-state persist or a block — which lands whole or not at all, and
/// the driver's step throws; or the step returns and only its first k messages leave.
@Suite("Simulator crash points")
struct CrashPointTests {
    @Test("both mid-step crash points fire across seeds: at the store's k-th write (its batch landing or not) and after the first k sends")
    func crashPointsFire() {
        var runner = SimRunner(nodes: 4, byzantine: 1)
        runner.realCryptoEvery = 0
        var causes: [SimTrace.CrashCause] = []
        for seed in UInt64(0)..<10 {
            let cluster = Cluster(runner.config(seed: seed))
            #expect(cluster.run().passed, "seed \(seed)")
            causes += cluster.crashes
        }
        #expect(causes.contains(.atWrite(landed: true)))
        #expect(causes.contains(.atWrite(landed: false)))
        #expect(causes.contains { if case .afterSends = $0 { true } else { false } })
        #expect(causes.contains(.storeFailure))
        #expect(causes.contains(.plan))
    }
}
