/// "1 argument", "2 arguments".
func counted(_ n: Int, _ noun: String) -> String { n == 1 ? "1 \(noun)" : "\(n) \(noun)s" }

/// A place in a source file, 1-based.
public struct SourcePosition: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var description: String { "\(line):\(column)" }
}

/// A compile error: where, and one sentence saying what is wrong.
public struct CompileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var position: SourcePosition
    public var message: String
    public var description: String { "\(file):\(position.line):\(position.column): error: \(message)" }
}

// MARK: Tokens

enum TokenKind: Equatable {
    case identifier(String)
    case integer(Int64)
    case string([UInt8])
    case keyword(String)
    case symbol(String)
    case end
}

struct Token {
    var kind: TokenKind
    var position: SourcePosition
}

let keywords: Set<String> = ["const", "storage", "map", "event", "fn", "pub", "sched", "init", "let", "if", "else", "while",
                             "return", "require", "emit", "schedule", "at", "delete", "true", "false", "int", "bool", "bytes", "address"]

struct Lexer {
    let source: [UInt8]
    let file: String
    var i = 0
    var line = 1
    var lineStart = 0

    init(_ text: String, file: String) {
        source = Array(text.utf8)
        self.file = file
    }

    /// Columns count characters (UTF-8 lead bytes), not bytes.
    var position: SourcePosition {
        SourcePosition(line: line, column: source[lineStart..<i].reduce(1) { $1 & 0xc0 == 0x80 ? $0 : $0 + 1 })
    }

    func error(_ message: String, at p: SourcePosition) -> CompileError { CompileError(file: file, position: p, message: message) }

    mutating func tokens() throws(CompileError) -> [Token] {
        var out: [Token] = []
        while true {
            let t = try next()
            out.append(t)
            if t.kind == .end { return out }
        }
    }

    static func isIdentStart(_ c: UInt8) -> Bool { c == UInt8(ascii: "_") || ((c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z")) }
    static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    mutating func next() throws(CompileError) -> Token {
        // Whitespace and comments.
        while i < source.count {
            let c = source[i]
            if c == UInt8(ascii: "\n") { i += 1; line += 1; lineStart = i }
            else if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") { i += 1 }
            else if c == UInt8(ascii: "/") && i + 1 < source.count && source[i + 1] == UInt8(ascii: "/") {
                while i < source.count && source[i] != UInt8(ascii: "\n") { i += 1 }
            } else { break }
        }
        let start = position
        guard i < source.count else { return Token(kind: .end, position: start) }
        let c = source[i]
        if Self.isIdentStart(c) {
            let s = i
            while i < source.count && (Self.isIdentStart(source[i]) || Self.isDigit(source[i])) { i += 1 }
            let word = String(decoding: source[s..<i], as: UTF8.self)
            guard i - s <= VMLimits.maxNameBytes else { throw error("a name is at most \(VMLimits.maxNameBytes) characters", at: start) }
            return Token(kind: keywords.contains(word) ? .keyword(word) : .identifier(word), position: start)
        }
        if Self.isDigit(c) {
            var value: Int64 = 0
            while i < source.count && (Self.isDigit(source[i]) || source[i] == UInt8(ascii: "_")) {
                if source[i] != UInt8(ascii: "_") {
                    let (m, o1) = value.multipliedReportingOverflow(by: 10)
                    let (a, o2) = m.addingReportingOverflow(Int64(source[i] - UInt8(ascii: "0")))
                    guard !o1 && !o2 else { throw error("this integer does not fit in 64 bits", at: start) }
                    value = a
                }
                i += 1
            }
            if i < source.count && Self.isIdentStart(source[i]) { throw error("a number cannot run into a name; put a space or operator between them", at: position) }
            return Token(kind: .integer(value), position: start)
        }
        if c == UInt8(ascii: "\"") {
            i += 1
            var bytes: [UInt8] = []
            while true {
                guard i < source.count, source[i] != UInt8(ascii: "\n") else { throw error("this string is not closed on its line", at: start) }
                let d = source[i]
                i += 1
                if d == UInt8(ascii: "\"") { break }
                if d == UInt8(ascii: "\\") {
                    guard i < source.count else { throw error("this string is not closed", at: start) }
                    switch source[i] {
                    case UInt8(ascii: "n"): bytes.append(10)
                    case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
                    case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
                    default: throw error("unknown escape \\\(Character(UnicodeScalar(source[i]))); use \\n, \\\" or \\\\", at: position)
                    }
                    i += 1
                } else {
                    bytes.append(d)
                }
            }
            return Token(kind: .string(bytes), position: start)
        }
        for symbol in ["==", "!=", "<=", ">=", "&&", "||", "->", "=>"] where i + 1 < source.count
            && source[i] == symbol.utf8.first! && source[i + 1] == Array(symbol.utf8)[1] {
            i += 2
            return Token(kind: .symbol(symbol), position: start)
        }
        if "(){}[],;:=<>+-*/%!".utf8.contains(c) {
            i += 1
            return Token(kind: .symbol(String(UnicodeScalar(c))), position: start)
        }
        // The whole character, not its first UTF-8 byte.
        let character = String(decoding: source[i..<min(i + 4, source.count)], as: UTF8.self).first ?? "?"
        throw error("unexpected character '\(character)'", at: start)
    }
}

// MARK: Syntax tree

/// The language's types. At the ABI they are `ValueType`s.
enum LType: Equatable, CustomStringConvertible {
    case int, bool, bytes, address
    var valueType: ValueType {
        switch self {
        case .int: .int
        case .bool: .bool
        case .bytes: .bytes
        case .address: .address
        }
    }
    var description: String { valueType.description }
    /// "an int", "a bool", "a bytes", "an address": the type with its article, for messages.
    var withArticle: String { self == .int || self == .address ? "an \(self)" : "a \(self)" }
}

indirect enum Expr {
    case integer(Int64, SourcePosition)
    case string([UInt8], SourcePosition)
    case boolean(Bool, SourcePosition)
    case name(String, SourcePosition)
    case call(String, [Expr], SourcePosition)
    case index(String, Expr, SourcePosition)
    case unary(String, Expr, SourcePosition)
    case binary(String, Expr, Expr, SourcePosition)

    var position: SourcePosition {
        switch self {
        case .integer(_, let p), .string(_, let p), .boolean(_, let p), .name(_, let p), .call(_, _, let p),
             .index(_, _, let p), .unary(_, _, let p), .binary(_, _, _, let p): p
        }
    }
}

indirect enum Stmt {
    case declare(String, LType?, Expr, SourcePosition)
    case assign(String, Expr, SourcePosition)
    case assignIndex(String, Expr, Expr, SourcePosition)
    case delete(String, Expr, SourcePosition)
    case ifElse(Expr, [Stmt], [Stmt]?, SourcePosition)
    case loop(Expr, [Stmt], SourcePosition)
    case ret(Expr?, SourcePosition)
    case require(Expr, Expr, SourcePosition)
    case emit(String, [Expr], SourcePosition)
    case schedule(String, [Expr], Expr, SourcePosition)
    case expression(Expr, SourcePosition)
}

struct Param {
    var name: String
    var type: LType
    var position: SourcePosition
}

struct FunctionDecl {
    var name: String
    var kind: FunctionInfo.Kind
    var params: [Param]
    var result: LType?
    var body: [Stmt]
    var position: SourcePosition
}

struct SourceFile {
    var constants: [(String, Expr, SourcePosition)] = []
    var storage: [(String, LType, SourcePosition)] = []
    var maps: [(String, LType, LType, SourcePosition)] = []
    var events: [(String, [Param], SourcePosition)] = []
    var functions: [FunctionDecl] = []
}
