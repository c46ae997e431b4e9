import ChainTypes
import ContractVM
import Ledger
import PBFT

/// libFuzzer entry for every decoder that reads bytes from peers, clients or files
/// (scripts/fuzz builds this with `--sanitize fuzzer`). The property: decoding never crashes,
/// and whatever decodes re-encodes to exactly the input (one byte form per value).
func fuzzOne(_ bytes: [UInt8]) {
    func check<T: CanonicalCodable>(_ type: T.Type) {
        if let value = try? T(canonicalBytes: bytes) {
            precondition(value.canonicalBytes == bytes, "\(T.self) accepted a non-canonical encoding")
        }
    }
    check(Transaction.self)
    check(Block.self)
    check(BlockHeader.self)
    check(CommitCertificate.self)
    check(Genesis.self)
    check(ConsensusMessage.self)
    check(Account.self)
    check(Receipt.self)
    check(SparseMerkleProof.self)
    check(TransferPayload.self)
    check(GovernancePayload.self)
    check(CallPayload.self)
    check(ScheduledCall.self)
    check(Program.self)
    fuzzContracts(bytes)
}

/// Contract code and call input come from clients: the verifier, the ABI decoder and the
/// compiler never crash; whatever verifies runs every function within a small gas budget
/// without crashing; whatever compiles verifies (the compiler checks that itself).
func fuzzContracts(_ bytes: [UInt8]) {
    _ = try? ABI.decodeCall(bytes)
    _ = try? ABI.decodeValues(bytes)
    if let program = try? Verifier.verify(bytes) {
        let vm = HansaVM()
        for f in program.program.functions {
            let args: [ABIValue] = f.params.map {
                switch $0 {
                case .int: .int(7)
                case .bool: .bool(true)
                case .bytes: .bytes([1, 2, 3])
                case .address: .address(Address(bytes: [UInt8](repeating: 9, count: 20))!)
                }
            }
            let entry: ContractEntry = switch f.kind {
            case .constructor: .constructor
            case .scheduled: .scheduled
            default: .call
            }
            // 200 000 gas for the run itself, after loading the code (finding 8) is paid.
            let budget = 200_000 + VMGas.codeLoad(bytes: program.codeBytes, constants: program.program.constants.count)
            _ = vm.run(program, entry: entry, input: ABI.encodeCall(f.name, args), gasLimit: budget, host: MemoryContractHost())
        }
    }
    if bytes.count <= 4_096 { _ = try? Compiler.compile(String(decoding: bytes, as: UTF8.self), file: "fuzz.hc") }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzOne(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#else
@main
struct HansaFuzz {
    static func main() {
        print("hansa-fuzz: build and run it with scripts/fuzz (libFuzzer); this build only checks that it compiles.")
    }
}
#endif
