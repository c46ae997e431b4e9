import ChainTypes
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A participant's or validator's secp256k1 key on disk, as JSON:
///
/// ```json
/// { "format": "hansa-key-v1", "address": "hx…", "public_key": "02…", "private_key": "…" }
/// ```
///
/// Written with mode 0600 and never over an existing file; refused when group or others may
/// read or write it (as ssh refuses such a key). `address` and `public_key` are derived and
/// checked on reading, so a hand-edited file cannot claim another identity.
public enum KeyFile {
    public static let format = "hansa-key-v1"

    /// Creates `path` with mode 0600, failing if it exists (checked atomically by O_EXCL).
    public static func write(_ key: PrivateKey, to path: String) throws(ConfigError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            let code = errno
            if code == EEXIST { throw .refusingToOverwrite(path: path) }
            throw .cannotWrite(path: path, why: String(cString: strerror(code)))
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: encode(key))
            try handle.synchronize()
            try handle.close()
        } catch {
            unlink(path)
            throw .cannotWrite(path: path, why: error.localizedDescription)
        }
    }

    public static func encode(_ key: PrivateKey) -> Data {
        let text = """
        {
          "format": "\(format)",
          "address": "\(key.publicKey.address.text)",
          "public_key": "\(key.publicKey.hex)",
          "private_key": "\(Hex.encode(key.secret))"
        }

        """
        return Data(text.utf8)
    }

    /// Reads a key file, refusing one that group or others can access.
    public static func read(_ path: String) throws(ConfigError) -> PrivateKey {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .cannotRead(path: path, why: errno == ENOENT ? "no such file" : String(cString: strerror(errno)))
        }
        let mode = UInt16(info.st_mode & 0o777)
        guard mode & 0o077 == 0 else { throw .insecurePermissions(path: path, mode: mode) }
        return try decode(FileIO.read(path), file: path)
    }

    public static func decode(_ data: Data, file: String) throws(ConfigError) -> PrivateKey {
        let doc = try DocTable.parseJSON(data, file: file)
        let fmt = try doc.string("format")
        guard fmt == format else { throw doc.fail("format", "is \"\(fmt)\"; this version reads \"\(format)\"") }
        let key: PrivateKey
        do { key = try PrivateKey(hex: try doc.string("private_key")) } catch let e as CryptoError {
            throw doc.fail("private_key", e.description)
        } catch let e as ConfigError { throw e } catch { throw doc.fail("private_key", "\(error)") }
        if let pub = try doc.optionalString("public_key"), pub.lowercased() != key.publicKey.hex {
            throw doc.fail("public_key", "does not belong to private_key (expected \(key.publicKey.hex))")
        }
        if let addr = try doc.optionalString("address"), addr != key.publicKey.address.text {
            throw doc.fail("address", "does not belong to private_key (expected \(key.publicKey.address.text))")
        }
        try doc.finish()
        return key
    }
}
