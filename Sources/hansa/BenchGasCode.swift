import ChainTypes
import ContractVM
import Foundation
import HansaCrypto
import Ledger
import TradeFinance

/// Program shapes for the cost of loading code: each has a trivial `pub fn f`, so a call's
/// time is almost all decoding and verification (the engine is new for every call: a miss).
func codeShapes(letterOfCredit: [UInt8]) -> [(name: String, code: [UInt8], function: String)] {
    let f = FunctionInfo(name: "f", kind: .public, params: [], result: .int, locals: 0, entry: 0)
    let tiny: [UInt8] = [0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0x33] // push_int 1; ret
    func shape(_ constants: [[UInt8]], _ more: [FunctionInfo], _ code: [UInt8]) -> [UInt8] {
        Program(constants: constants, functions: [f] + more, code: tiny + code).canonicalBytes
    }
    // 64 KiB of one-byte instructions: dup, pop, …
    let pairs = (VMLimits.maxCodeBytes - 64) / 2
    let straight = shape([], [FunctionInfo(name: "g", kind: .internal, params: [], result: .int, locals: 0, entry: tiny.count)],
                         [0x01, 0, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: pairs * 2).enumerated().map { $0.offset % 2 == 0 ? 0x04 : 0x03 } + [0x33])
    // Branches: push 0; (dup; jump_if_false next)…; ret — every instruction a jump target.
    var branchy: [UInt8] = [0x01, 0, 0, 0, 0, 0, 0, 0, 0]
    while branchy.count + 7 < VMLimits.maxCodeBytes - 64 {
        let next = UInt32(tiny.count + branchy.count + 6)
        branchy += [0x04, 0x31, UInt8(next >> 24), UInt8(truncatingIfNeeded: next >> 16), UInt8(truncatingIfNeeded: next >> 8), UInt8(truncatingIfNeeded: next)]
    }
    branchy.append(0x33)
    let branches = shape([], [FunctionInfo(name: "g", kind: .internal, params: [], result: .int, locals: 0, entry: tiny.count)], branchy)
    // The most constants and functions the container allows, each as small as it can be.
    let constants = shape((0..<VMLimits.maxConstants).map { [UInt8(truncatingIfNeeded: $0)] }, [], [])
    var functionCode: [UInt8] = []
    let functions = (1..<VMLimits.maxFunctions).map { i -> FunctionInfo in
        defer { functionCode += tiny }
        return FunctionInfo(name: "g\(i)", kind: .internal, params: [.int, .int], result: .int, locals: 2, entry: tiny.count + functionCode.count)
    }
    let many = shape([], functions, functionCode)
    return [("letter of credit", letterOfCredit, "status"), ("64 KiB of dup, pop", straight, "f"),
            ("64 KiB of dup, jump_if_false", branches, "f"), ("1024 one-byte constants", constants, "f"),
            ("256 functions", many, "f")]
}

/// Finding 8: a call on code the engine has not cached, for each shape, on an in-memory host;
/// and, through the ledger, calls rotating over more letter-of-credit contracts than the
/// cache holds, next to the same calls on cached code.
func codeLoadingRows(_ bench: LedgerGasBench, _ reference: ArithmeticReference, trials: Int, contractPath: String) throws -> [GasRow] {
    let loc = try TradeDevChain.compileLetterOfCredit(contractPath).bytecode
    var rows: [GasRow] = []
    for s in codeShapes(letterOfCredit: loc) {
        let hash = SHA256.hash(s.code), input = ABI.encodeCall(s.function, [])
        var ratios: [Double] = [], perOp: [Double] = []
        var gas: UInt64 = 0
        for _ in 0..<trials {
            let calls = 5
            let ns = (0..<4).map { _ in  // the fastest of 4: other work only ever adds time
                nanos {
                    for _ in 0..<calls {
                        let o = HansaVM().run(code: s.code, codeHash: hash, entry: .call, input: input, gasLimit: 50_000_000, host: MemoryContractHost())
                        precondition(o.succeeded, "\(s.name): \(o.failure ?? "")")
                        gas = o.gasUsed
                    }
                }
            }.min()! / Double(calls)
            perOp.append(ns)
            ratios.append(ns / Double(gas) / reference.measure())
        }
        rows.append(GasRow(name: "call, code not cached: \(s.name) (\(s.code.count) B)", gasPerOp: Double(gas), nsPerOp: median(perOp), ratio: median(ratios),
                           pricedForAMiss: true))
    }
    rows += try rotationRows(bench, reference, trials: trials, code: loc)
    return rows
}

/// The reviewer's case: `status()` on 300 letter-of-credit contracts in rotation (each a
/// different program, more than `HansaVM.maxCachedPrograms`, so every call misses), whole
/// transactions through the ledger, against 300 calls on contracts whose code stays cached.
func rotationRows(_ bench: LedgerGasBench, _ reference: ArithmeticReference, trials: Int, code: [UInt8]) throws -> [GasRow] {
    let chain = bench.chain
    let program = try Program(canonicalBytes: code, root: "program")
    let count = HansaVM.maxCachedPrograms + 44
    var contracts: [Address] = []
    let day: Int64 = 86_400_000, start = Int64(chain.time)
    let a = { (k: PrivateKey) in ABIValue.address(k.publicKey.address) }
    for first in stride(from: 0, to: count, by: 100) {
        let deploys = (first..<min(first + 100, count)).map { i in
            var p = program
            p.constants.append(Array("variant \(i)".utf8)) // a different program, so a different cache entry
            return chain.deploy(p.canonicalBytes, [a(chain.importer), a(chain.exporter), a(chain.advisingBank), a(chain.advisingBank),
                                                   .string("USD"), .int(1_000_00), .int(1_000), .int(start + 60 * day), .int(start + 30 * day),
                                                   .int(21), .int(0), .string("CNSHA"), .string("NLRTM"), .int(3), .int(0)])
        }
        try bench.check(try chain.commit(deploys.map(\.0)))
        contracts += deploys.map(\.1)
    }
    let input = ABI.encodeCall("status", [])
    func block(_ targets: [Address]) throws -> (seconds: Double, gas: UInt64) {
        let txs = targets.map { chain.tx(chain.importer, .callContract, CallPayload(contract: $0, input: input), gas: 5_000_000) }
        let before = chain.applySeconds
        let receipts = try chain.commit(txs)
        try bench.check(receipts)
        return (chain.applySeconds - before, receipts.reduce(0) { $0 + $1.gasUsed })
    }
    var missRatios: [Double] = [], hitRatios: [Double] = [], missNs: [Double] = [], hitNs: [Double] = []
    var missGas = 0.0, hitGas = 0.0
    for _ in 0..<trials {
        let miss = try block(contracts)                              // rotation: every call a miss
        let cached = Array(contracts.suffix(100))
        let hit = try block(cached + cached + cached)                // the last used stay cached
        let ref = reference.measure()
        missGas = Double(miss.gas) / Double(count); hitGas = Double(hit.gas) / 300
        missNs.append(miss.seconds * 1e9 / Double(count)); hitNs.append(hit.seconds * 1e9 / 300)
        missRatios.append(miss.seconds * 1e9 / Double(miss.gas) / ref)
        hitRatios.append(hit.seconds * 1e9 / Double(hit.gas) / ref)
    }
    return [
        GasRow(name: "ledger: status() on \(count) LoCs in rotation (misses)", gasPerOp: missGas, nsPerOp: median(missNs), ratio: median(missRatios),
               pricedForAMiss: true),
        GasRow(name: "ledger: status() on cached LoC code", gasPerOp: hitGas, nsPerOp: median(hitNs), ratio: median(hitRatios),
               pricedForAMiss: true),
    ]
}
