import ArgumentParser
import Dispatch
import HansaCrypto
import PBFT
import Simulator

/// `hansa-mutate` (its own executable, so that the mutation build compiles only the consensus
/// core and the simulator, not the node's network and HTTP stacks): mutation testing of the consensus core. Each deliberate protocol bug of
/// the mutation build runs alone over its hunting ground until a checker catches it or the
/// budget is spent; the last line is "N caught, M survived" and any survivor fails the run.
@main
struct Mutate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hansa-mutate",
        abstract: "Run each deliberate protocol bug in the simulator until a checker catches it (mutation build only).",
        discussion: """
        Only the mutation build has the bugs: scripts/mutate builds it (swift build \
        -Xswiftc -DHANSA_FLAWS into .build-flaws) and runs this command. A normal build \
        refuses. Each bug runs alone, seed after seed, on the cluster, byzantine behaviour \
        and fault scenario listed for it in docs/PROTOCOL.md §14 (Mutation testing); it is caught when some \
        safety or liveness checker fails. A catching seed is run again without the bug and \
        must pass. Prints one line per bug, then "N caught, M survived"; exits non-zero if \
        any survived or a catching seed also fails without its bug.
        """)

    @Option(help: "Most seeds per bug.")
    var budget: Int = 300

    @Option(name: .customLong("flaw"), help: "Only these bugs (repeatable); default all.")
    var flaws: [String] = []

    @Option(help: "Bugs hunted at once (threads).")
    var jobs: Int = 2

    func validate() throws {
        guard !MutationBuild.flawNames.isEmpty else { throw ValidationError(MutationBuild.notInThisBuild) }
        guard budget >= 1 else { throw ValidationError("--budget must be at least 1") }
        guard jobs >= 1, jobs <= 64 else { throw ValidationError("--jobs must be 1 to 64") }
        for f in flaws where !MutationBuild.flawNames.contains(f) {
            throw ValidationError("unknown --flaw \(f); known: \(MutationBuild.flawNames.joined(separator: ", "))")
        }
    }

    func run() throws {
        #if HANSA_FLAWS
        let chosen = Mutation.catalog.filter { flaws.isEmpty || flaws.contains($0.flaw.rawValue) }
        let results = Locked([Mutation.Result?](repeating: nil, count: chosen.count))
        let next = Locked(0)
        let budget = self.budget
        DispatchQueue.concurrentPerform(iterations: min(jobs, chosen.count)) { _ in
            while true {
                let i: Int = next.withLock { n in defer { n += 1 }; return n }
                guard i < chosen.count else { return }
                let r = chosen[i].hunt(budget: budget)
                results.withLock { $0[i] = r }
            }
        }
        var caught = 0, survived = 0, broken = 0
        for r in results.withLock({ $0 }).compactMap({ $0 }) {
            let name = r.flaw.rawValue.padding(toLength: 36, withPad: " ", startingAt: 0)
            if let (seed, failure) = r.caught {
                if let clean = r.failsWithoutFlaw {
                    broken += 1
                    print("BROKEN   \(name) seed \(seed) fails without the bug too: \(clean)")
                } else {
                    caught += 1
                    print("caught   \(name) after \(r.seedsRun) seed\(r.seedsRun == 1 ? "" : "s") (seed \(seed)): \(failure.prefix(160))")
                }
                // `hansa sim --flaw` needs hansa built with the bugs too (scripts/mutate builds only hansa-mutate).
                print("         replay: swift build -c release --product hansa --build-path .build-flaws -Xswiftc -DHANSA_FLAWS && "
                      + ".build-flaws/release/\(r.replay)")
            } else {
                survived += 1
                print("SURVIVED \(name) \(r.seedsRun) seeds passed; last: \(r.replay)")
            }
        }
        if broken > 0 { print("\(broken) catching seed\(broken == 1 ? "" : "s") also failed without the bug: real bugs, fix them first") }
        print("\(caught) caught, \(survived + broken) survived")
        if survived + broken > 0 { throw ExitCode(1) }
        #endif
    }
}
