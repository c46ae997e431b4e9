import ChainTypes
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
