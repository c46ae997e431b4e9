import COpenSSL

/// SHA-256 through libcrypto's EVP interface.
///
/// The digest algorithm is fetched once per process (`EVP_MD_fetch`) and each thread reuses
/// one `EVP_MD_CTX`, so a call costs no provider lookup and no allocation inside OpenSSL.
/// (The one-shot `SHA256()` looks the provider up on every call.)
public enum SHA256 {
    /// Hashes `bytes`.
    public static func hash(_ bytes: [UInt8]) -> Digest32 {
        bytes.withUnsafeBytes { EVPDigest.shared.digest($0) }
    }

    /// Hashes `bytes`.
    public static func hash(_ bytes: ArraySlice<UInt8>) -> Digest32 {
        bytes.withUnsafeBytes { EVPDigest.shared.digest($0) }
    }

    /// Hashes the UTF-8 bytes of `text`.
    public static func hash(utf8 text: String) -> Digest32 { hash(Array(text.utf8)) }

    /// SHA-256(tag ‖ a) — 33 bytes hashed from the stack (a Merkle leaf over a digest).
    public static func hash(tag: UInt8, _ a: Digest32) -> Digest32 {
        let words = ((UInt64(tag) << 56 | a.w0 >> 8).bigEndian, (a.w0 << 56 | a.w1 >> 8).bigEndian,
                     (a.w1 << 56 | a.w2 >> 8).bigEndian, (a.w2 << 56 | a.w3 >> 8).bigEndian, (a.w3 << 56).bigEndian)
        return withUnsafeBytes(of: words) { EVPDigest.shared.digest(UnsafeRawBufferPointer(rebasing: $0.prefix(33))) }
    }

    /// SHA-256(tag ‖ a ‖ b) — 65 bytes hashed from the stack, without building an array (the
    /// state tree's leaf and internal-node hashes).
    public static func hash(tag: UInt8, _ a: Digest32, _ b: Digest32) -> Digest32 {
        // The 65 bytes as nine big-endian words, shifted one byte right behind the tag.
        let s = (a.w0, a.w1, a.w2, a.w3, b.w0, b.w1, b.w2, b.w3)
        let words = ((UInt64(tag) << 56 | s.0 >> 8).bigEndian, (s.0 << 56 | s.1 >> 8).bigEndian,
                     (s.1 << 56 | s.2 >> 8).bigEndian, (s.2 << 56 | s.3 >> 8).bigEndian,
                     (s.3 << 56 | s.4 >> 8).bigEndian, (s.4 << 56 | s.5 >> 8).bigEndian,
                     (s.5 << 56 | s.6 >> 8).bigEndian, (s.6 << 56 | s.7 >> 8).bigEndian,
                     (s.7 << 56).bigEndian)
        return withUnsafeBytes(of: words) { EVPDigest.shared.digest(UnsafeRawBufferPointer(rebasing: $0.prefix(65))) }
    }
}

/// SHA-256 over input that arrives in pieces (the simulator's trace digest): the digest of
/// the concatenation of every `update`, as if hashed at once.
///
/// Invariant: `ctx` holds a SHA-256 computation in progress until `finish()`, after which
/// the stream refuses further use; the context is freed with the stream.
public final class SHA256Stream {
    private let ctx: OpaquePointer
    private var finished = false

    public init() {
        guard let ctx = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new: out of memory") }
        self.ctx = ctx
        precondition(EVP_DigestInit_ex2(ctx, EVPDigest.shared.md, nil) == 1, "EVP SHA-256 init failed: \(EVPDigest.lastError())")
    }

    deinit { EVP_MD_CTX_free(ctx) }

    /// Appends `bytes` to the hashed input.
    public func update(_ bytes: [UInt8]) {
        precondition(!finished, "SHA256Stream used after finish()")
        let ok = bytes.withUnsafeBytes { EVP_DigestUpdate(ctx, $0.baseAddress, $0.count) == 1 }
        precondition(ok, "EVP SHA-256 update failed: \(EVPDigest.lastError())")
    }

    /// The digest of everything appended; the stream is spent afterwards.
    public func finish() -> Digest32 {
        precondition(!finished, "SHA256Stream finished twice")
        finished = true
        return EVPDigest.final(ctx)
    }
}

/// The fetched SHA-256 algorithm and the per-thread contexts that use it.
/// Invariant: `md` is never freed; each thread's context is freed when that thread exits.
private final class EVPDigest: @unchecked Sendable {
    static let shared = EVPDigest()

    let md: OpaquePointer
    private var key = pthread_key_t()

    private init() {
        guard let md = EVP_MD_fetch(nil, "SHA256", nil) else {
            preconditionFailure("libcrypto has no SHA256 provider: \(EVPDigest.lastError())")
        }
        self.md = md
        let rc = pthread_key_create(&key) { ctx in
            if let ctx { EVP_MD_CTX_free(OpaquePointer(ctx)) }
        }
        precondition(rc == 0, "pthread_key_create failed: \(rc)")
    }

    /// This thread's reusable digest context.
    private func context() -> OpaquePointer {
        if let raw = pthread_getspecific(key) { return OpaquePointer(raw) }
        guard let ctx = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new: out of memory") }
        pthread_setspecific(key, UnsafeRawPointer(ctx))
        return ctx
    }

    func digest(_ input: UnsafeRawBufferPointer) -> Digest32 {
        let ctx = context()
        let ok = EVP_DigestInit_ex2(ctx, md, nil) == 1 && EVP_DigestUpdate(ctx, input.baseAddress, input.count) == 1
        // SHA-256 over memory cannot fail short of memory corruption: a broken invariant.
        precondition(ok, "EVP SHA-256 failed: \(EVPDigest.lastError())")
        return Self.final(ctx)
    }

    /// Finishes the computation in `ctx` and returns its digest.
    static func final(_ ctx: OpaquePointer) -> Digest32 {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { out in
            var length: UInt32 = 0
            let ok = EVP_DigestFinal_ex(ctx, out.baseAddress!.assumingMemoryBound(to: UInt8.self), &length) == 1
            precondition(ok && length == 32, "EVP SHA-256 failed: \(EVPDigest.lastError())")
            return Digest32(
                w0: UInt64(bigEndian: out.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                w1: UInt64(bigEndian: out.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                w2: UInt64(bigEndian: out.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                w3: UInt64(bigEndian: out.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
        }
    }

    static func lastError() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return "no OpenSSL error queued" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
