import Foundation
import Synchronization
import Testing
import HansaCrypto

/// Known answers from FIPS 180-2 Appendix B and the NIST CAVS examples; the per-thread
/// EVP context must give the same answers from any thread.
@Suite("SHA-256")
struct SHA256Tests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let input: String
        let digest: String
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        // FIPS 180-2 / NIST: the empty message.
        Vector(name: "empty", input: "",
               digest: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        // FIPS 180-2 Appendix B.1: one block.
        Vector(name: "abc", input: "abc",
               digest: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        // FIPS 180-2 Appendix B.2: the 448-bit message that needs two blocks of padding.
        Vector(name: "448-bit", input: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
               digest: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ]

    @Test("known answers", arguments: vectors)
    func knownAnswer(_ v: Vector) {
        #expect(SHA256.hash(utf8: v.input).hex == v.digest)
        #expect(SHA256.hash(Array(v.input.utf8)).hex == v.digest)
    }

    /// The stack-built forms (tree and Merkle hashes) equal hashing the concatenated bytes,
    /// for digests with every byte position distinct (a misplaced shift shows).
    @Test func taggedDigestsMatchConcatenation() {
        let a = Digest32(bytes: (0..<32).map { UInt8($0 + 1) })!
        let b = Digest32(bytes: (0..<32).map { UInt8(0xff - $0) })!
        for tag: UInt8 in [0x00, 0x01, 0x02, 0xff] {
            #expect(SHA256.hash(tag: tag, a, b) == SHA256.hash([tag] + a.bytes + b.bytes))
            #expect(SHA256.hash(tag: tag, b, a) == SHA256.hash([tag] + b.bytes + a.bytes))
            #expect(SHA256.hash(tag: tag, a) == SHA256.hash([tag] + a.bytes))
        }
        var out: [UInt8] = [7]
        a.appendBytes(to: &out)
        #expect(out == [7] + (1...32).map { UInt8($0) })
    }

    /// FIPS 180-2 Appendix B.3: one million repetitions of "a".
    @Test func oneMillionA() {
        let input = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hash(input).hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// A slice that does not start at index 0 hashes exactly its own elements.
    @Test("ArraySlice overload hashes only the slice", arguments: [(0, 0), (0, 3), (5, 8), (3, 59), (1, 1000)])
    func sliceOverload(_ range: (Int, Int)) {
        let base = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let slice = base[range.0..<range.1]
        #expect(SHA256.hash(slice) == SHA256.hash(Array(slice)))
    }

    /// The stream gives the one-shot answer however the input is cut (FIPS 180-2 B.3 in
    /// uneven pieces, so pieces straddle the 64-byte blocks), and nothing appended is the empty digest.
    @Test("SHA256Stream equals the one-shot hash for any cut", arguments: [7, 63, 64, 65, 1000, 65_536])
    func streamInPieces(_ piece: Int) {
        let stream = SHA256Stream()
        var left = 1_000_000
        while left > 0 {
            let k = min(piece, left)
            stream.update([UInt8](repeating: UInt8(ascii: "a"), count: k))
            left -= k
        }
        #expect(stream.finish().hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        #expect(SHA256Stream().finish().hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func sliceOfKnownAnswer() {
        let padded = Array("xxabcxx".utf8)
        #expect(SHA256.hash(padded[2..<5]).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    /// Inputs of many lengths around the 55/56/64-byte padding boundaries.
    static func concurrencyInputs() -> [[UInt8]] {
        (0..<130).map { n in (0..<n).map { UInt8(truncatingIfNeeded: $0 &+ n) } }
    }

    @Test func concurrentTasksAgreeWithSerialHashing() async {
        let inputs = Self.concurrencyInputs()
        let expected = inputs.map { SHA256.hash($0) }
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for task in 0..<16 {
                group.addTask {
                    var bad = 0
                    for round in 0..<20 {
                        // Each task walks the inputs in a different order so contexts interleave.
                        for i in inputs.indices {
                            let j = (i * 7 + task * 13 + round) % inputs.count
                            if SHA256.hash(inputs[j]) != expected[j] { bad += 1 }
                        }
                    }
                    return bad
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        #expect(expected[0].hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// Threads that start, hash and exit: each exit frees that thread's context, and the
    /// survivors (and later threads) must still hash correctly.
    @Test func shortLivedThreadsAgreeWithSerialHashing() {
        let inputs = Self.concurrencyInputs()
        let expected = inputs.map { SHA256.hash($0) }
        let mismatches = Mutex(0)
        for wave in 0..<3 {
            let group = DispatchGroup()
            for t in 0..<8 {
                group.enter()
                let thread = Thread {
                    var bad = 0
                    for i in inputs.indices {
                        let j = (i * 11 + t + wave) % inputs.count
                        if SHA256.hash(inputs[j]) != expected[j] { bad += 1 }
                    }
                    mismatches.withLock { $0 += bad }
                    group.leave()
                }
                thread.start()
            }
            group.wait()
        }
        #expect(mismatches.withLock { $0 } == 0)
        #expect(SHA256.hash(utf8: "abc").hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
