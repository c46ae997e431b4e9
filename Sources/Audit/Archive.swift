import ChainTypes
import Foundation
import HansaCrypto

/// A chain's history in one portable file: `hansa export` writes it, `hansa audit verify
/// --archive` reads it (docs/AUDIT.md "Archive format"). Self-describing — it carries the
/// genesis it belongs to and the heights it holds — and checkable with nothing but itself
/// and the genesis file: every block comes with its commit certificate and receipts.
///
/// ```
/// archive = magic "HANSAARC" ‖ u8 version (1) ‖ bytes(genesis) ‖ uvarint last_height
///           ‖ block_record* ‖ end_record
/// block_record = 0x01 ‖ uvarint height ‖ bytes(block) ‖ bytes(certificate) ‖ bytes(receipts)
/// end_record   = 0x00 ‖ uvarint block_count ‖ head_hash (32 bytes)
/// bytes(x)     = uvarint length ‖ x
/// ```
/// genesis, block and certificate are their canonical encodings (docs/PROTOCOL.md §5, §6);
/// receipts is the receipt list as a node stores it (docs/LEDGER.md `r/`). Blocks run from
/// height 1 to last_height, in order.
public enum Archive {
    public static let magic = Array("HANSAARC".utf8)
    public static let version: UInt8 = 1
    static let blockTag: UInt8 = 0x01
    static let endTag: UInt8 = 0x00

    /// Writes an archive to `path` (replacing it only once it is complete: written to
    /// `path.partial`, then renamed).
    public final class Writer {
        let path: String
        let partial: String
        let handle: FileHandle
        var buffer: [UInt8] = []
        var count: UInt64 = 0
        var last: Hash
        let lastHeight: UInt64

        public init(path: String, genesis: Genesis, lastHeight: UInt64) throws {
            self.path = path
            partial = path + ".partial"
            guard FileManager.default.createFile(atPath: partial, contents: nil) else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: partial])
            }
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: partial))
            self.lastHeight = lastHeight
            last = genesis.hash
            var w = CanonicalWriter()
            w.fixed(Archive.magic)
            w.byte(Archive.version)
            w.lengthPrefixed(genesis.canonicalBytes)
            w.uvarint(lastHeight)
            buffer = w.bytes
        }

        public func append(height: UInt64, block: [UInt8], certificate: [UInt8], receipts: [UInt8], hash: Hash) throws {
            precondition(height == count + 1, "blocks are appended in height order from 1")
            var w = CanonicalWriter(capacity: block.count + certificate.count + receipts.count + 32)
            w.byte(Archive.blockTag)
            w.uvarint(height)
            w.lengthPrefixed(block)
            w.lengthPrefixed(certificate)
            w.lengthPrefixed(receipts)
            buffer += w.bytes
            count += 1
            last = hash
            if buffer.count >= 1 << 20 { try flush() }
        }

        private func flush() throws {
            try handle.write(contentsOf: buffer)
            buffer.removeAll(keepingCapacity: true)
        }

        /// Writes the end record, syncs, and moves the file into place.
        public func finish() throws {
            precondition(count == lastHeight, "the archive declared \(lastHeight) blocks and got \(count)")
            var w = CanonicalWriter()
            w.byte(Archive.endTag)
            w.uvarint(count)
            w.hash(last)
            buffer += w.bytes
            try flush()
            try handle.synchronize()
            try handle.close()
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: partial, toPath: path)
        }
    }
}

/// An archive as an audit source, read in chunks (an archive may be larger than memory).
/// Every length is bounded before anything is allocated, so a damaged or hostile file
/// fails with a message, never a crash or a huge allocation.
public final class ArchiveSource: AuditSource {
    public let path: String
    /// The genesis the archive carries (checked against the genesis file by its hash).
    public let genesis: Genesis
    public let lastHeight: UInt64
    private let input: ChunkedInput
    private var count: UInt64 = 0
    private var finished = false
    private var lastHash: Hash?
    /// Most bytes one part of a record may have: the genesis block limit, with room for framing.
    let maxPart: Int

    public var name: String { "the archive \(path)" }

    public init(path: String) throws(AuditError) {
        self.path = path
        input = try ChunkedInput(path: path)
        let magic = try input.take(Archive.magic.count, "the magic")
        guard magic == Archive.magic else { throw .source("\(path) is not a Hansa archive (it does not start with HANSAARC)") }
        let version = try input.take(1, "the version")[0]
        guard version == Archive.version else { throw .source("\(path) is an archive of format \(version); this auditor reads format \(Archive.version)") }
        let genesisBytes = try input.part(maxBytes: 16 << 20, "the genesis")
        do { genesis = try Genesis(canonicalBytes: genesisBytes) } catch { throw .source("the archive's genesis does not decode: \(error)") }
        lastHeight = try input.uvarint("the last height")
        maxPart = Int(clamping: genesis.consensus.maxBlockBytes) + (1 << 20)
    }

    public func genesisHash() throws(AuditError) -> Hash { genesis.hash }

    public func headHeight() throws(AuditError) -> UInt64 { lastHeight }

    public func next() throws(AuditError) -> SourceBlock? {
        guard !finished else { return nil }
        let at = count + 1
        guard let tag = try input.optionalByte() else {
            throw .discrepancy(Discrepancy(.head, height: at, "\(name) ends before block \(at) without its end record (declared \(lastHeight) blocks): cut short?"))
        }
        switch tag {
        case Archive.blockTag:
            let height = try input.uvarint("block \(at)'s height")
            let block = try input.part(maxBytes: maxPart, "block \(at)")
            let certificate = try input.part(maxBytes: 1 << 20, "block \(at)'s certificate")
            let receipts = try input.part(maxBytes: maxPart, "block \(at)'s receipts")
            count += 1
            return SourceBlock(height: height, block: block, certificate: certificate, receipts: receipts)
        case Archive.endTag:
            finished = true
            let declared = try input.uvarint("the block count")
            lastHash = Hash(bytes: try input.take(32, "the head hash"))
            guard declared == count, count == lastHeight else {
                throw .discrepancy(Discrepancy(.head, height: count,
                                               "\(name) holds \(count) blocks; its header declares \(lastHeight) and its end record \(declared)"))
            }
            guard try input.optionalByte() == nil else { throw .source("\(name) has bytes after its end record") }
            return nil
        default:
            throw .source("\(name) has a record of unknown type \(tag) before block \(at) (at byte \(input.offset - 1))")
        }
    }

    public func finish(_ chain: VerifiedChain) throws(AuditError) {
        guard lastHash == chain.hash else {
            throw .discrepancy(Discrepancy(.head, height: chain.height, "\(name)'s end record names the head \(lastHash?.hex ?? "none"), not the last block \(chain.hash.hex)"))
        }
    }
}

/// A file read forward in chunks of 1 MiB.
final class ChunkedInput {
    let path: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var position = 0
    private(set) var offset = 0
    private var atEnd = false

    init(path: String) throws(AuditError) {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .source("cannot open \(path)") }
        self.handle = handle
    }

    deinit { try? handle.close() }

    /// Ensures `n` bytes are buffered, or as many as the file has left.
    private func fill(_ n: Int) throws(AuditError) {
        while buffer.count - position < n && !atEnd {
            if position > 0 {
                buffer.removeFirst(position)
                position = 0
            }
            let chunk: Data?
            do { chunk = try handle.read(upToCount: max(1 << 20, n - buffer.count)) } catch { throw .source("reading \(path): \(error)") }
            guard let chunk, !chunk.isEmpty else { atEnd = true; break }
            buffer += chunk
        }
    }

    func take(_ n: Int, _ what: String) throws(AuditError) -> [UInt8] {
        try fill(n)
        guard buffer.count - position >= n else { throw .source("\(path) ends inside \(what) (at byte \(offset))") }
        let out = Array(buffer[position..<position + n])
        position += n
        offset += n
        return out
    }

    func optionalByte() throws(AuditError) -> UInt8? {
        try fill(1)
        guard position < buffer.count else { return nil }
        defer { position += 1; offset += 1 }
        return buffer[position]
    }

    /// A uvarint of docs/PROTOCOL.md §1 (at most 10 bytes, minimal).
    func uvarint(_ what: String) throws(AuditError) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<10 {
            let b = try take(1, what)[0]
            if i == 9 && b > 1 { throw .source("\(what) overflows 64 bits (at byte \(offset))") }
            value |= UInt64(b & 0x7f) << UInt64(7 * i)
            if b & 0x80 == 0 {
                if i > 0 && b == 0 { throw .source("\(what) is not a minimal uvarint (at byte \(offset))") }
                return value
            }
        }
        throw .source("\(what) is longer than 10 bytes (at byte \(offset))")
    }

    /// uvarint length ‖ that many bytes, at most `maxBytes`.
    func part(maxBytes: Int, _ what: String) throws(AuditError) -> [UInt8] {
        let n = try uvarint("\(what)'s length")
        guard n <= UInt64(maxBytes) else { throw .source("\(what) claims \(n) bytes; at most \(maxBytes) are allowed (at byte \(offset))") }
        return try take(Int(n), what)
    }
}

extension Archive {
    /// Copies every block of `source`, with its certificate and receipts, into an archive at
    /// `path` (`hansa export`). Nothing is verified here — `hansa audit verify --archive`
    /// does that — but a block without its certificate or receipts is refused, since the
    /// archive would not be verifiable. `genesis` must be the source's.
    @discardableResult
    public static func export(from source: AuditSource, genesis: Genesis, to path: String,
                              progress: ((_ height: UInt64, _ last: UInt64) -> Void)? = nil) throws -> UInt64 {
        let claimed = try source.genesisHash()
        guard claimed == genesis.hash else {
            throw AuditError.source("\(source.name) belongs to the chain of genesis \(claimed.hex), not the given genesis \(genesis.hash.hex)")
        }
        let last = try source.headHeight()
        let writer = try Writer(path: path, genesis: genesis, lastHeight: last)
        var height: UInt64 = 0
        while height < last, let next = try source.next() {
            height += 1
            guard next.height == height else { throw AuditError.source("\(source.name) has no block at height \(height)") }
            guard let certificate = next.certificate else { throw AuditError.source("\(source.name) has no certificate for block \(height)") }
            guard let receipts = next.receipts else { throw AuditError.source("\(source.name) has no receipts for block \(height)") }
            let header = try Block.header(ofEncoded: next.block)
            try writer.append(height: height, block: next.block, certificate: certificate, receipts: receipts, hash: header.hash)
            if height % 256 == 0 || height == last { progress?(height, last) }
        }
        guard height == last else { throw AuditError.source("\(source.name) ends at height \(height) before its head \(last)") }
        try writer.finish()
        return height
    }
}
