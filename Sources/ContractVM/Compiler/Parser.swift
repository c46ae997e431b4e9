/// Recursive descent over the token list; one error stops the parse (the first is the one
/// worth reading).
struct Parser {
    let tokens: [Token]
    let file: String
    var i = 0
    /// Nesting of expressions and blocks, bounded so that the parser's recursion is.
    var depth = 0
    static let maxDepth = 100

    init(tokens: [Token], file: String) {
        self.tokens = tokens
        self.file = file
    }

    var current: Token { tokens[i] }

    func error(_ message: String, at p: SourcePosition? = nil) -> CompileError {
        CompileError(file: file, position: p ?? current.position, message: message)
    }

    func describe(_ k: TokenKind) -> String {
        switch k {
        case .identifier(let s): "the name '\(s)'"
        case .integer(let v): "the number \(v)"
        case .string: "a string"
        case .keyword(let s): "the keyword '\(s)'"
        case .symbol(let s): "'\(s)'"
        case .end: "the end of the file"
        }
    }

    mutating func advance() -> Token { defer { i += 1 }; return tokens[i] }

    func at(_ symbol: String) -> Bool { current.kind == .symbol(symbol) }
    func atKeyword(_ word: String) -> Bool { current.kind == .keyword(word) }

    mutating func expect(_ symbol: String, _ context: String) throws(CompileError) {
        guard at(symbol) else { throw error("expected '\(symbol)' \(context), found \(describe(current.kind))") }
        i += 1
    }

    mutating func identifier(_ what: String) throws(CompileError) -> (String, SourcePosition) {
        guard case .identifier(let name) = current.kind else { throw error("expected \(what), found \(describe(current.kind))") }
        let p = current.position
        i += 1
        return (name, p)
    }

    mutating func type() throws(CompileError) -> LType {
        guard case .keyword(let word) = current.kind else { throw error("expected a type (int, bool, bytes or address), found \(describe(current.kind))") }
        let t: LType
        switch word {
        case "int": t = .int
        case "bool": t = .bool
        case "bytes": t = .bytes
        case "address": t = .address
        default: throw error("expected a type (int, bool, bytes or address), found \(describe(current.kind))")
        }
        i += 1
        return t
    }

    mutating func parseFile() throws(CompileError) -> SourceFile {
        var file = SourceFile()
        while current.kind != .end {
            let p = current.position
            switch current.kind {
            case .keyword("const"):
                i += 1
                let (name, _) = try identifier("a constant's name")
                try expect("=", "after the constant's name")
                let value = try expression()
                try expect(";", "after the constant")
                file.constants.append((name, value, p))
            case .keyword("storage"):
                i += 1
                let (name, _) = try identifier("a storage variable's name")
                try expect(":", "after the storage variable's name")
                let t = try type()
                try expect(";", "after the storage declaration")
                file.storage.append((name, t, p))
            case .keyword("map"):
                i += 1
                let (name, _) = try identifier("a map's name")
                try expect(":", "after the map's name")
                let k = try type()
                try expect("=>", "between the map's key and value types")
                let v = try type()
                try expect(";", "after the map declaration")
                file.maps.append((name, k, v, p))
            case .keyword("event"):
                i += 1
                let (name, _) = try identifier("an event's name")
                file.events.append((name, try params(), p))
                try expect(";", "after the event declaration")
            case .keyword("init"):
                i += 1
                let ps = try params()
                file.functions.append(FunctionDecl(name: "init", kind: .constructor, params: ps, result: nil, body: try block(), position: p))
            case .keyword("pub"), .keyword("sched"), .keyword("fn"):
                var kind = FunctionInfo.Kind.internal
                if atKeyword("pub") { kind = .public; i += 1 } else if atKeyword("sched") { kind = .scheduled; i += 1 }
                guard atKeyword("fn") else { throw error("expected 'fn', found \(describe(current.kind))") }
                i += 1
                let (name, _) = try identifier("a function's name")
                let ps = try params()
                var result: LType?
                if at("->") { i += 1; result = try type() }
                file.functions.append(FunctionDecl(name: name, kind: kind, params: ps, result: result, body: try block(), position: p))
            default:
                throw error("expected a declaration (const, storage, map, event, init, fn, pub fn or sched fn), found \(describe(current.kind))")
            }
        }
        return file
    }

    mutating func params() throws(CompileError) -> [Param] {
        try expect("(", "to open the parameter list")
        var ps: [Param] = []
        while !at(")") {
            let (name, p) = try identifier("a parameter name")
            try expect(":", "after the parameter name")
            ps.append(Param(name: name, type: try type(), position: p))
            if !at(")") { try expect(",", "between parameters") }
        }
        i += 1
        return ps
    }

    mutating func nest() throws(CompileError) {
        depth += 1
        guard depth <= Self.maxDepth else { throw error("expressions and blocks nest at most \(Self.maxDepth) deep") }
    }

    mutating func block() throws(CompileError) -> [Stmt] {
        try nest()
        defer { depth -= 1 }
        try expect("{", "to open a block")
        var body: [Stmt] = []
        while !at("}") {
            guard current.kind != .end else { throw error("this block is not closed; expected '}'") }
            body.append(try statement())
        }
        i += 1
        return body
    }

    mutating func arguments() throws(CompileError) -> [Expr] {
        try expect("(", "to open the argument list")
        var args: [Expr] = []
        while !at(")") {
            args.append(try expression())
            if !at(")") { try expect(",", "between arguments") }
        }
        i += 1
        return args
    }

    mutating func statement() throws(CompileError) -> Stmt {
        let p = current.position
        switch current.kind {
        case .keyword("let"):
            i += 1
            let (name, _) = try identifier("a variable name")
            var t: LType?
            if at(":") { i += 1; t = try type() }
            try expect("=", "after the variable name (a variable needs a value)")
            let e = try expression()
            try expect(";", "after the statement")
            return .declare(name, t, e, p)
        case .keyword("if"):
            return try ifStatement()
        case .keyword("while"):
            i += 1
            let cond = try expression()
            return .loop(cond, try block(), p)
        case .keyword("return"):
            i += 1
            if at(";") { i += 1; return .ret(nil, p) }
            let e = try expression()
            try expect(";", "after the return value")
            return .ret(e, p)
        case .keyword("require"):
            i += 1
            let args = try arguments()
            guard args.count == 2 else { throw error("require takes a condition and a message", at: p) }
            try expect(";", "after require(...)")
            return .require(args[0], args[1], p)
        case .keyword("emit"):
            i += 1
            let (name, _) = try identifier("an event name")
            let args = try arguments()
            try expect(";", "after emit")
            return .emit(name, args, p)
        case .keyword("schedule"):
            i += 1
            let (name, _) = try identifier("a scheduled function's name")
            let args = try arguments()
            guard atKeyword("at") else { throw error("expected 'at' and a time after schedule \(name)(...)") }
            i += 1
            let time = try expression()
            try expect(";", "after the schedule statement")
            return .schedule(name, args, time, p)
        case .keyword("delete"):
            i += 1
            let (name, _) = try identifier("a map name")
            try expect("[", "after the map name")
            let key = try expression()
            try expect("]", "after the key")
            try expect(";", "after delete")
            return .delete(name, key, p)
        case .identifier(let name) where tokens[i + 1].kind == .symbol("="):
            i += 2
            let e = try expression()
            try expect(";", "after the assignment")
            return .assign(name, e, p)
        default:
            let e = try expression()
            if at("=") {
                guard case .index(let map, let key, _) = e else { throw error("only a variable or a map entry can be assigned to", at: p) }
                i += 1
                let value = try expression()
                try expect(";", "after the assignment")
                return .assignIndex(map, key, value, p)
            }
            try expect(";", "after the expression")
            return .expression(e, p)
        }
    }

    mutating func ifStatement() throws(CompileError) -> Stmt {
        let p = current.position
        i += 1
        let cond = try expression()
        let then = try block()
        guard atKeyword("else") else { return .ifElse(cond, then, nil, p) }
        i += 1
        if atKeyword("if") { return .ifElse(cond, then, [try ifStatement()], p) }
        return .ifElse(cond, then, try block(), p)
    }

    // Precedence, loosest first.
    static let levels: [[String]] = [["||"], ["&&"], ["==", "!="], ["<", "<=", ">", ">="], ["+", "-"], ["*", "/", "%"]]

    mutating func expression(_ level: Int = 0) throws(CompileError) -> Expr {
        guard level < Self.levels.count else { return try unary() }
        var lhs = try expression(level + 1)
        while case .symbol(let s) = current.kind, Self.levels[level].contains(s) {
            let p = current.position
            i += 1
            let rhs = try expression(level + 1)
            lhs = .binary(s, lhs, rhs, p)
        }
        return lhs
    }

    mutating func unary() throws(CompileError) -> Expr {
        try nest()
        defer { depth -= 1 }
        let p = current.position
        if at("!") || at("-") {
            let op = at("!") ? "!" : "-"
            i += 1
            return .unary(op, try unary(), p)
        }
        return try primary()
    }

    mutating func primary() throws(CompileError) -> Expr {
        let t = current
        switch t.kind {
        case .integer(let v): i += 1; return .integer(v, t.position)
        case .string(let s): i += 1; return .string(s, t.position)
        case .keyword("true"): i += 1; return .boolean(true, t.position)
        case .keyword("false"): i += 1; return .boolean(false, t.position)
        case .identifier(let name):
            i += 1
            if at("(") { return .call(name, try arguments(), t.position) }
            if at("[") {
                i += 1
                let key = try expression()
                try expect("]", "after the key")
                return .index(name, key, t.position)
            }
            return .name(name, t.position)
        case .symbol("("):
            i += 1
            let e = try expression()
            try expect(")", "to close the parenthesis")
            return e
        default:
            throw error("expected an expression, found \(describe(t.kind))")
        }
    }
}
