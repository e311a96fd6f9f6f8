#include "sim/odata.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/ids.hpp"
#include "core/text.hpp"
#include "core/time.hpp"

namespace containd::sim::odata {
namespace {

int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// ---- tokenizer ----
struct token {
    enum class type { end, ident, string, number_like, lparen, rparen, comma, colon, slash } t;
    std::string text;
    std::size_t pos = 0;
};

class lexer {
public:
    explicit lexer(std::string_view s) : s_(s) {}
    bool tokenize(std::vector<token>& out, parse_error& err) {
        std::size_t i = 0;
        while (i < s_.size()) {
            const char c = s_[i];
            if (c == ' ' || c == '\t') {
                ++i;
                continue;
            }
            const std::size_t start = i;
            if (c == '(') {
                out.push_back({token::type::lparen, "(", start});
                ++i;
                continue;
            }
            if (c == ')') {
                out.push_back({token::type::rparen, ")", start});
                ++i;
                continue;
            }
            if (c == ',') {
                out.push_back({token::type::comma, ",", start});
                ++i;
                continue;
            }
            if (c == ':') {
                out.push_back({token::type::colon, ":", start});
                ++i;
                continue;
            }
            if (c == '/') {
                out.push_back({token::type::slash, "/", start});
                ++i;
                continue;
            }
            if (c == '\'') {
                std::string v;
                ++i;
                bool closed = false;
                while (i < s_.size()) {
                    if (s_[i] == '\'') {
                        if (i + 1 < s_.size() && s_[i + 1] == '\'') {
                            v.push_back('\'');
                            i += 2;
                            continue;
                        }
                        closed = true;
                        ++i;
                        break;
                    }
                    v.push_back(s_[i++]);
                }
                if (!closed) {
                    err.message = "unterminated string literal at position " + std::to_string(start);
                    return false;
                }
                out.push_back({token::type::string, v, start});
                continue;
            }
            if (std::isdigit(static_cast<unsigned char>(c)) ||
                (c == '-' && i + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i + 1])))) {
                std::string v;
                v.push_back(s_[i++]);
                while (i < s_.size()) {
                    const char d = s_[i];
                    if (std::isalnum(static_cast<unsigned char>(d)) || d == '.' || d == ':' || d == '-' || d == '+') {
                        v.push_back(d);
                        ++i;
                    } else {
                        break;
                    }
                }
                out.push_back({token::type::number_like, v, start});
                continue;
            }
            if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '@') {
                std::string v;
                while (i < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i])) || s_[i] == '_' ||
                                         s_[i] == '.' || s_[i] == '$' || s_[i] == '@' || s_[i] == '#')) {
                    v.push_back(s_[i++]);
                }
                out.push_back({token::type::ident, v, start});
                continue;
            }
            err.message = std::string("unexpected character '") + c + "' at position " + std::to_string(start);
            return false;
        }
        out.push_back({token::type::end, "", s_.size()});
        return true;
    }

private:
    std::string_view s_;
};

bool is_compare_op(const std::string& s) {
    static const char* ops[] = {"eq", "ne", "gt", "ge", "lt", "le"};
    return std::find(std::begin(ops), std::end(ops), s) != std::end(ops);
}

bool is_function(const std::string& s) {
    return s == "startswith" || s == "endswith" || s == "contains" || s == "isof" || s == "tolower" || s == "toupper";
}

// ---- parser ----
class parser {
public:
    parser(std::vector<token> toks, parse_error& err) : t_(std::move(toks)), err_(err) {}

    node_ptr parse() {
        auto n = parse_or();
        if (!n) return nullptr;
        if (peek().t != token::type::end) return fail("unexpected '" + peek().text + "'");
        return n;
    }

private:
    const token& peek(std::size_t ahead = 0) const { return t_[std::min(p_ + ahead, t_.size() - 1)]; }
    const token& next() { return t_[std::min(p_++, t_.size() - 1)]; }
    bool accept_ident(const char* word) {
        if (peek().t == token::type::ident && peek().text == word) {
            ++p_;
            return true;
        }
        return false;
    }
    node_ptr fail(std::string msg) {
        if (err_.message.empty()) err_.message = msg + " at position " + std::to_string(peek().pos);
        return nullptr;
    }

    node_ptr parse_or() {
        auto l = parse_and();
        while (l && accept_ident("or")) {
            auto r = parse_and();
            if (!r) return nullptr;
            l = std::make_shared<node>(node{node::kind::logical_or, {}, false, {}, "or", {}, {l, r}});
        }
        return l;
    }
    node_ptr parse_and() {
        auto l = parse_unary();
        while (l && accept_ident("and")) {
            auto r = parse_unary();
            if (!r) return nullptr;
            l = std::make_shared<node>(node{node::kind::logical_and, {}, false, {}, "and", {}, {l, r}});
        }
        return l;
    }
    node_ptr parse_unary() {
        if (accept_ident("not")) {
            auto inner = parse_unary();
            if (!inner) return nullptr;
            return std::make_shared<node>(node{node::kind::logical_not, {}, false, {}, "not", {}, {inner}});
        }
        return parse_comparison();
    }
    node_ptr parse_comparison() {
        auto l = parse_primary();
        if (!l) return nullptr;
        if (peek().t == token::type::ident && is_compare_op(peek().text)) {
            const std::string op = next().text;
            auto r = parse_primary();
            if (!r) return nullptr;
            if (l->k == node::kind::compare || r->k == node::kind::compare) return fail("chained comparison");
            return std::make_shared<node>(node{node::kind::compare, {}, false, {}, op, {}, {l, r}});
        }
        // A bare operand must be boolean-valued and followed by a connective or the end.
        if (l->k == node::kind::literal && !l->value.is_boolean()) return fail("expected a comparison operator");
        const token& after = peek();
        const bool connective = after.t == token::type::end || after.t == token::type::rparen ||
                                after.t == token::type::comma ||
                                (after.t == token::type::ident && (after.text == "and" || after.text == "or"));
        if (!connective) return fail("expected a comparison operator");
        return l;
    }
    node_ptr parse_primary() {
        const token& tk = peek();
        switch (tk.t) {
        case token::type::lparen: {
            ++p_;
            auto inner = parse_or();
            if (!inner) return nullptr;
            if (next().t != token::type::rparen) return fail("expected ')'");
            return inner;
        }
        case token::type::string: {
            ++p_;
            return std::make_shared<node>(node{node::kind::literal, tk.text, false, {}, {}, {}, {}});
        }
        case token::type::number_like: {
            ++p_;
            return number_literal(tk.text);
        }
        case token::type::ident: {
            if (tk.text == "true" || tk.text == "false") {
                ++p_;
                return std::make_shared<node>(node{node::kind::literal, tk.text == "true", false, {}, {}, {}, {}});
            }
            if (tk.text == "null") {
                ++p_;
                return std::make_shared<node>(node{node::kind::literal, nullptr, false, {}, {}, {}, {}});
            }
            if (is_compare_op(tk.text) || tk.text == "and" || tk.text == "or")
                return fail("unexpected '" + tk.text + "'");
            if (peek(1).t == token::type::lparen) {
                if (!is_function(tk.text)) return fail("unknown function '" + tk.text + "'");
                return parse_call();
            }
            return parse_path();
        }
        default:
            return fail(tk.t == token::type::end ? "unexpected end of expression" : "unexpected '" + tk.text + "'");
        }
    }
    node_ptr number_literal(const std::string& text) {
        if (auto t = parse_rfc3339(text)) {
            (void)t;
            return std::make_shared<node>(node{node::kind::literal, text, true, {}, {}, {}, {}});
        }
        if (text.size() == 10 && text[4] == '-' && text[7] == '-' && parse_rfc3339(text + "T00:00:00Z"))
            return std::make_shared<node>(node{node::kind::literal, text + "T00:00:00Z", true, {}, {}, {}, {}});
        if (is_guid(text)) return std::make_shared<node>(node{node::kind::literal, text, false, {}, {}, {}, {}});
        std::size_t used = 0;
        try {
            if (text.find_first_of(".eE") == std::string::npos) {
                const long long v = std::stoll(text, &used);
                if (used == text.size())
                    return std::make_shared<node>(node{node::kind::literal, v, false, {}, {}, {}, {}});
            } else {
                const double v = std::stod(text, &used);
                if (used == text.size())
                    return std::make_shared<node>(node{node::kind::literal, v, false, {}, {}, {}, {}});
            }
        } catch (const std::exception&) {}
        return fail("invalid literal '" + text + "'");
    }
    node_ptr parse_call() {
        const std::string name = next().text;
        next();  // (
        std::vector<node_ptr> args;
        if (peek().t != token::type::rparen) {
            for (;;) {
                auto a = parse_primary();
                if (!a) return nullptr;
                args.push_back(a);
                if (peek().t == token::type::comma) {
                    ++p_;
                    continue;
                }
                break;
            }
        }
        if (next().t != token::type::rparen) return fail("expected ')' after arguments of " + name);
        const std::size_t want = name == "isof" || name == "tolower" || name == "toupper" ? 1 : 2;
        if (args.size() != want) return fail("wrong number of arguments to " + name);
        return std::make_shared<node>(node{node::kind::call, {}, false, {}, name, {}, std::move(args)});
    }
    node_ptr parse_path() {
        std::vector<std::string> path{next().text};
        while (peek().t == token::type::slash) {
            ++p_;
            if (peek().t != token::type::ident) return fail("expected a property name after '/'");
            const std::string seg = next().text;
            if ((seg == "any" || seg == "all") && peek().t == token::type::lparen) {
                ++p_;
                if (peek().t != token::type::ident) return fail("expected a lambda variable");
                const std::string var = next().text;
                if (next().t != token::type::colon) return fail("expected ':' in lambda");
                lambda_vars_.push_back(var);
                auto pred = parse_or();
                lambda_vars_.pop_back();
                if (!pred) return nullptr;
                if (next().t != token::type::rparen) return fail("expected ')' closing the lambda");
                auto coll = std::make_shared<node>(node{node::kind::property, {}, false, path, {}, {}, {}});
                return std::make_shared<node>(node{node::kind::lambda, {}, false, {}, seg, var, {coll, pred}});
            }
            path.push_back(seg);
        }
        return std::make_shared<node>(node{node::kind::property, {}, false, std::move(path), {}, {}, {}});
    }

    std::vector<token> t_;
    std::size_t p_ = 0;
    parse_error& err_;
    std::vector<std::string> lambda_vars_;
};

// ---- evaluation ----
using env = std::vector<std::pair<std::string, const nlohmann::json*>>;

nlohmann::json resolve(const std::vector<std::string>& path, const nlohmann::json& entity, const env& vars) {
    const nlohmann::json* cur = nullptr;
    std::size_t i = 0;
    for (auto it = vars.rbegin(); it != vars.rend(); ++it) {
        if (it->first == path[0]) {
            cur = it->second;
            i = 1;
            break;
        }
    }
    if (!cur) cur = &entity;
    for (; i < path.size(); ++i) {
        if (!cur->is_object()) return nullptr;
        auto f = cur->find(path[i]);
        if (f == cur->end()) return nullptr;
        cur = &*f;
    }
    return *cur;
}

struct value {
    nlohmann::json v;
    bool is_datetime = false;
};

value eval_value(const node& n, const nlohmann::json& e, env& vars);
bool eval_bool(const node& n, const nlohmann::json& e, env& vars);

value eval_value(const node& n, const nlohmann::json& e, env& vars) {
    switch (n.k) {
    case node::kind::literal: return {n.value, n.is_datetime};
    case node::kind::property: return {resolve(n.path, e, vars), false};
    case node::kind::call:
        if (n.op == "tolower" || n.op == "toupper") {
            auto a = eval_value(*n.args[0], e, vars);
            if (!a.v.is_string()) return {nullptr, false};
            std::string s = a.v.get<std::string>();
            for (auto& c : s)
                c = static_cast<char>(n.op == "tolower" ? std::tolower(static_cast<unsigned char>(c))
                                                        : std::toupper(static_cast<unsigned char>(c)));
            return {s, false};
        }
        return {eval_bool(n, e, vars), false};
    default: return {eval_bool(n, e, vars), false};
    }
}

int compare_values(const value& a, const value& b, bool& comparable) {
    comparable = true;
    if (a.is_datetime || b.is_datetime) {
        if (!a.v.is_string() || !b.v.is_string()) {
            comparable = false;
            return 0;
        }
        auto ta = parse_rfc3339(a.v.get<std::string>());
        auto tb = parse_rfc3339(b.v.get<std::string>());
        if (!ta || !tb) {
            comparable = false;
            return 0;
        }
        return *ta < *tb ? -1 : (*ta > *tb ? 1 : 0);
    }
    if (a.v.is_number() && b.v.is_number()) {
        const double x = a.v.get<double>(), y = b.v.get<double>();
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    if (a.v.is_string() && b.v.is_string()) {
        const auto x = lower(a.v.get<std::string>()), y = lower(b.v.get<std::string>());
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    if (a.v.is_boolean() && b.v.is_boolean()) return a.v.get<bool>() == b.v.get<bool>() ? 0 : 1;
    if (a.v.is_null() && b.v.is_null()) return 0;
    if (a.v.is_null() || b.v.is_null()) return 2;  // unequal, not ordered
    comparable = false;
    return 0;
}

bool eval_bool(const node& n, const nlohmann::json& e, env& vars) {
    switch (n.k) {
    case node::kind::logical_and: return eval_bool(*n.args[0], e, vars) && eval_bool(*n.args[1], e, vars);
    case node::kind::logical_or: return eval_bool(*n.args[0], e, vars) || eval_bool(*n.args[1], e, vars);
    case node::kind::logical_not: return !eval_bool(*n.args[0], e, vars);
    case node::kind::literal: return n.value.is_boolean() && n.value.get<bool>();
    case node::kind::property: {
        auto v = resolve(n.path, e, vars);
        return v.is_boolean() && v.get<bool>();
    }
    case node::kind::compare: {
        const auto a = eval_value(*n.args[0], e, vars);
        const auto b = eval_value(*n.args[1], e, vars);
        bool comparable = true;
        const int c = compare_values(a, b, comparable);
        if (!comparable) return n.op == "ne";
        if (c == 2) return n.op == "ne";
        if (n.op == "eq") return c == 0;
        if (n.op == "ne") return c != 0;
        if (n.op == "gt") return c > 0;
        if (n.op == "ge") return c >= 0;
        if (n.op == "lt") return c < 0;
        return c <= 0;
    }
    case node::kind::call: {
        if (n.op == "isof") {
            const auto t = eval_value(*n.args[0], e, vars);
            if (!t.v.is_string() || !e.is_object()) return false;
            const auto ty = e.value("@odata.type", std::string());
            return lower(ty) == lower("#" + t.v.get<std::string>());
        }
        const auto a = eval_value(*n.args[0], e, vars);
        const auto b = eval_value(*n.args[1], e, vars);
        if (!a.v.is_string() || !b.v.is_string()) return false;
        const auto x = lower(a.v.get<std::string>()), y = lower(b.v.get<std::string>());
        if (n.op == "startswith") return x.rfind(y, 0) == 0;
        if (n.op == "endswith") return x.size() >= y.size() && x.compare(x.size() - y.size(), y.size(), y) == 0;
        if (n.op == "contains") return x.find(y) != std::string::npos;
        return false;
    }
    case node::kind::lambda: {
        const auto coll = resolve(n.args[0]->path, e, vars);
        if (!coll.is_array()) return false;
        const bool any = n.op == "any";
        for (const auto& item : coll) {
            vars.emplace_back(n.var, &item);
            const bool r = eval_bool(*n.args[1], e, vars);
            vars.pop_back();
            if (any && r) return true;
            if (!any && !r) return false;
        }
        return !any;
    }
    }
    return false;
}

void collect(const node& n, std::vector<std::string>& vars, std::vector<std::string>& out) {
    if (n.k == node::kind::property) {
        if (std::find(vars.begin(), vars.end(), n.path[0]) == vars.end() &&
            std::find(out.begin(), out.end(), n.path[0]) == out.end())
            out.push_back(n.path[0]);
        return;
    }
    if (n.k == node::kind::lambda) {
        collect(*n.args[0], vars, out);
        vars.push_back(n.var);
        collect(*n.args[1], vars, out);
        vars.pop_back();
        return;
    }
    for (const auto& a : n.args) collect(*a, vars, out);
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size()) return std::nullopt;
            const int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0) return std::nullopt;
            out.push_back(static_cast<char>(h * 16 + l));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::optional<std::map<std::string, std::string>> parse_query(std::string_view query) {
    std::map<std::string, std::string> out;
    std::size_t i = 0;
    while (i <= query.size() && !query.empty()) {
        std::size_t amp = query.find('&', i);
        if (amp == std::string_view::npos) amp = query.size();
        const auto part = query.substr(i, amp - i);
        if (!part.empty()) {
            const auto eq = part.find('=');
            auto k = percent_decode(part.substr(0, eq), true);
            auto v = eq == std::string_view::npos ? std::optional<std::string>("")
                                                  : percent_decode(part.substr(eq + 1), true);
            if (!k || !v) return std::nullopt;
            out[*k] = *v;
        }
        if (amp >= query.size()) break;
        i = amp + 1;
    }
    return out;
}

std::optional<key_segment> parse_key_segment(std::string_view segment) {
    const auto open = segment.find('(');
    if (open == std::string_view::npos || segment.back() != ')') return std::nullopt;
    key_segment k;
    k.name = std::string(segment.substr(0, open));
    std::string_view inner = segment.substr(open + 1, segment.size() - open - 2);
    const auto eq = inner.find('=');
    if (eq != std::string_view::npos && inner.find('\'') > eq) {
        k.key_property = std::string(inner.substr(0, eq));
        inner = inner.substr(eq + 1);
    }
    if (inner.size() >= 2 && inner.front() == '\'' && inner.back() == '\'') {
        inner = inner.substr(1, inner.size() - 2);
        std::string v;
        for (std::size_t i = 0; i < inner.size(); ++i) {
            if (inner[i] == '\'') {
                if (i + 1 < inner.size() && inner[i + 1] == '\'') {
                    v.push_back('\'');
                    ++i;
                    continue;
                }
                return std::nullopt;  // a lone quote inside the literal
            }
            v.push_back(inner[i]);
        }
        k.key_value = v;
        return k;
    }
    if (is_guid(inner)) {
        k.key_value = std::string(inner);
        return k;
    }
    return std::nullopt;
}

node_ptr parse_filter(std::string_view text, parse_error& err) {
    std::vector<token> toks;
    lexer lx(text);
    if (!lx.tokenize(toks, err)) return nullptr;
    if (toks.size() == 1) {
        err.message = "empty filter";
        return nullptr;
    }
    parser p(std::move(toks), err);
    return p.parse();
}

bool evaluate(const node& n, const nlohmann::json& entity) {
    env vars;
    return eval_bool(n, entity, vars);
}

std::vector<std::string> referenced_properties(const node& n) {
    std::vector<std::string> vars, out;
    collect(n, vars, out);
    return out;
}

}  // namespace containd::sim::odata
