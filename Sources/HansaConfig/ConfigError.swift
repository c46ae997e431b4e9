import ChainTypes

/// Why a file a person wrote or keeps (template, key file, genesis file) was refused.
/// Every case names the file and, where there is one, the field and line.
public enum ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    case cannotRead(path: String, why: String)
    case cannotWrite(path: String, why: String)
    /// The file is not valid TOML or JSON.
    case syntax(path: String, line: Int?, column: Int?, message: String)
    /// A field is missing, has the wrong type or breaks a rule.
    case field(path: String, field: String, problem: String)
    /// A key file already exists; keys are never overwritten.
    case refusingToOverwrite(path: String)
    /// A key file that others may read.
    case insecurePermissions(path: String, mode: UInt16)

    public var description: String {
        switch self {
        case .cannotRead(let path, let why): "\(path): cannot read: \(why)"
        case .cannotWrite(let path, let why): "\(path): cannot write: \(why)"
        case .syntax(let path, let line, let column, let message):
            if let line, let column { "\(path):\(line):\(column): \(message)" } else { "\(path): \(message)" }
        case .field(let path, let field, let problem): "\(path): \(field): \(problem)"
        case .refusingToOverwrite(let path): "\(path) already exists; refusing to overwrite a key file (move it away first)"
        case .insecurePermissions(let path, let mode):
            "\(path) is readable or writable by others (mode \(String(mode, radix: 8))); run: chmod 600 \(path)"
        }
    }
}
