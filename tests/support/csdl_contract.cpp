#include "support/csdl_contract.hpp"

#include <algorithm>
#include <cctype>
#include <iostream>
#include <regex>
#include <sstream>

#include <pugixml.hpp>

namespace containd::test {
namespace {

using nlohmann::json;

constexpr const char* k_collection_prefix = "Collection(";

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::string join(const std::string& parent, const std::string& key) {
    return parent.empty() ? key : parent + "." + key;
}
std::string index(const std::string& parent, std::size_t i) { return parent + "[" + std::to_string(i) + "]"; }

// Re-roots violations found in a nested document (a $batch item's body) under `prefix`.
void append_under(std::vector<violation>& out, std::vector<violation> inner, const std::string& prefix) {
    for (auto& v : inner) {
        v.path = v.path.empty() ? prefix : prefix + "." + v.path;
        out.push_back(std::move(v));
    }
}

// "@odata.type", "value@odata.nextLink", "members@odata.bind", "@microsoft.graph.tips".
bool is_annotation(const std::string& key) {
    const auto at = key.find('@');
    if (at == std::string::npos) return false;
    const std::string term = key.substr(at + 1);
    return starts_with(term, "odata.") || starts_with(term, "microsoft.graph.");
}

std::optional<std::string> percent_decode(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
            !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
            return std::nullopt;
        out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
        i += 2;
    }
    return out;
}

// "users('x')" -> {"users", "'x'"}; "users" -> {"users", nullopt}.
std::pair<std::string, std::optional<std::string>> split_key(const std::string& seg) {
    const auto open = seg.find('(');
    if (open == std::string::npos || seg.back() != ')') return {seg, std::nullopt};
    return {seg.substr(0, open), seg.substr(open + 1, seg.size() - open - 2)};
}

struct type_ref {
    std::string type;
    bool collection = false;
};

type_ref split_collection(const std::string& t) {
    if (starts_with(t, k_collection_prefix) && !t.empty() && t.back() == ')')
        return {
            t.substr(std::string(k_collection_prefix).size(), t.size() - std::string(k_collection_prefix).size() - 1),
            true};
    return {t, false};
}

bool is_edm(const std::string& t) { return starts_with(t, "Edm."); }

}  // namespace

std::string to_string(const violation& v) {
    std::string s = (v.path.empty() ? std::string("(root)") : v.path) + ": " + v.message;
    s += " [type " + (v.type.empty() ? std::string("?") : v.type);
    if (!v.property.empty()) s += ", property '" + v.property + "'";
    return s + "]";
}

std::ostream& operator<<(std::ostream& os, const violation& v) { return os << to_string(v); }

std::string to_string(const std::vector<violation>& vs) {
    std::string s;
    for (const auto& v : vs) s += "  " + to_string(v) + "\n";
    return s;
}

// ---------------------------------------------------------------------------------------------
// Loading

std::string csdl_model::qualify(const std::string& ref) const {
    std::string t = ref;
    if (!t.empty() && t[0] == '#') t.erase(0, 1);
    auto [inner, coll] = split_collection(t);
    const auto dot = inner.rfind('.');
    if (dot != std::string::npos) {
        auto it = aliases_.find(inner.substr(0, dot));
        if (it != aliases_.end()) inner = it->second + inner.substr(dot);
    }
    return coll ? std::string(k_collection_prefix) + inner + ")" : inner;
}

std::optional<csdl_model> csdl_model::load(const std::string& path, std::string* error) {
    pugi::xml_document doc;
    const auto parsed = doc.load_file(path.c_str());
    if (!parsed) {
        if (error) *error = path + ": " + parsed.description();
        return std::nullopt;
    }
    csdl_model m;
    const auto services = doc.child("edmx:Edmx").child("edmx:DataServices");
    if (!services) {
        if (error) *error = path + ": not an EDMX document (no edmx:Edmx/edmx:DataServices)";
        return std::nullopt;
    }
    // Aliases first: type references anywhere may use any schema's alias ("graph.user", "self.alert").
    for (auto schema : services.children("Schema"))
        if (const auto alias = schema.attribute("Alias"))
            m.aliases_[alias.value()] = schema.attribute("Namespace").value();

    const auto read_property = [&m](const pugi::xml_node& p, bool navigation) {
        csdl_property prop;
        prop.name = p.attribute("Name").value();
        const auto t = split_collection(p.attribute("Type").value());
        prop.type = m.qualify(t.type);
        prop.collection = t.collection;
        prop.navigation = navigation;
        return prop;
    };

    for (auto schema : services.children("Schema")) {
        const std::string ns = schema.attribute("Namespace").value();
        for (auto node : schema.children()) {
            const std::string tag = node.name();
            if (tag == "EntityType" || tag == "ComplexType") {
                csdl_structured_type t;
                t.name = ns + "." + node.attribute("Name").value();
                t.k = tag == "EntityType" ? csdl_structured_type::kind::entity : csdl_structured_type::kind::complex;
                if (const auto b = node.attribute("BaseType")) t.base = m.qualify(b.value());
                t.abstract = node.attribute("Abstract").as_bool(false);
                t.open = node.attribute("OpenType").as_bool(false);
                for (auto p : node.children("Property")) {
                    auto prop = read_property(p, false);
                    t.declared[prop.name] = prop;
                }
                for (auto p : node.children("NavigationProperty")) {
                    auto prop = read_property(p, true);
                    t.declared[prop.name] = prop;
                }
                m.types_[t.name] = std::move(t);
            } else if (tag == "EnumType") {
                csdl_enum_type e;
                e.name = ns + "." + node.attribute("Name").value();
                e.flags = node.attribute("IsFlags").as_bool(false);
                for (auto mem : node.children("Member")) e.members.insert(mem.attribute("Name").value());
                m.enums_[e.name] = std::move(e);
            } else if ((tag == "Action" || tag == "Function") && node.attribute("IsBound").as_bool(false)) {
                csdl_operation op;
                op.name = ns + "." + node.attribute("Name").value();
                op.is_action = tag == "Action";
                bool first = true;
                for (auto p : node.children("Parameter")) {
                    auto prop = read_property(p, false);
                    if (first) {
                        op.binding_type = prop.type;
                        op.binding_collection = prop.collection;
                        first = false;
                    } else {
                        op.parameters.push_back(std::move(prop));
                    }
                }
                if (const auto r = node.child("ReturnType")) {
                    csdl_property ret;
                    ret.name = "value";
                    const auto t = split_collection(r.attribute("Type").value());
                    ret.type = m.qualify(t.type);
                    ret.collection = t.collection;
                    op.returns = ret;
                }
                m.operations_.push_back(std::move(op));
            } else if (tag == "EntityContainer") {
                for (auto es : node.children("EntitySet"))
                    m.entity_sets_[es.attribute("Name").value()] = m.qualify(es.attribute("EntityType").value());
                for (auto st : node.children("Singleton"))
                    m.singletons_[st.attribute("Name").value()] = m.qualify(st.attribute("Type").value());
            }
        }
    }

    // Flatten every type's properties along its BaseType chain (a base declared later in the file,
    // or in another schema, is fine: all types are known by now).
    for (auto& [name, t] : m.types_) {
        std::vector<const csdl_structured_type*> chain;
        for (const csdl_structured_type* cur = &t; cur && chain.size() < 64;) {
            chain.push_back(cur);
            if (cur->base.empty()) break;
            auto it = m.types_.find(cur->base);
            if (it == m.types_.end()) {
                if (error) *error = path + ": " + cur->name + " has an unknown BaseType " + cur->base;
                return std::nullopt;
            }
            cur = &it->second;
        }
        for (auto it = chain.rbegin(); it != chain.rend(); ++it)
            for (const auto& [pn, p] : (*it)->declared) t.all[pn] = p;
    }

    // An action's parameters become a structured type of their own, so a body is checked by the
    // same walk as an entity ("microsoft.graph.removePassword(microsoft.graph.application)").
    for (std::size_t i = 0; i < m.operations_.size(); ++i) {
        auto& op = m.operations_[i];
        const auto short_name = op.name.substr(op.name.rfind('.') + 1);
        m.ops_by_short_name_[short_name].push_back(i);
        if (!op.is_action) continue;
        csdl_structured_type t;
        t.k = csdl_structured_type::kind::action_parameters;
        t.name =
            op.name + "(" + (op.binding_collection ? "Collection(" + op.binding_type + ")" : op.binding_type) + ")";
        for (const auto& p : op.parameters) t.declared[p.name] = p;
        t.all = t.declared;
        op.parameters_type = t.name;
        m.types_[t.name] = std::move(t);
    }
    return m;
}

const csdl_structured_type* csdl_model::find_type(const std::string& name) const {
    auto it = types_.find(qualify(name));
    return it == types_.end() ? nullptr : &it->second;
}

const csdl_enum_type* csdl_model::find_enum(const std::string& name) const {
    auto it = enums_.find(qualify(name));
    return it == enums_.end() ? nullptr : &it->second;
}

bool csdl_model::derives_from(const std::string& type, const std::string& base) const {
    const std::string b = qualify(base);
    std::string cur = qualify(type);
    for (int depth = 0; depth < 64 && !cur.empty(); ++depth) {
        if (cur == b) return true;
        const auto* t = find_type(cur);
        if (!t) return false;
        cur = t->base;
    }
    return false;
}

// ---------------------------------------------------------------------------------------------
// The JSON walk

struct csdl_model::walker {
    const csdl_model& m;
    const check_options& opts;
    std::vector<std::string>* skipped;
    std::vector<violation> out;

    void add(std::string path, std::string type, std::string property, std::string message) {
        out.push_back({std::move(path), std::move(type), std::move(property), std::move(message)});
    }
    void skip(const std::string& what) {
        if (skipped) skipped->push_back(what);
    }

    // A property's value (collection or single), `owner` the type that declares it.
    void value(const json& v, const csdl_property& p, const std::string& path, const std::string& owner) {
        if (v.is_null()) return;
        if (p.collection) {
            if (!v.is_array()) {
                add(path, owner, p.name, "expected an array of " + p.type + ", got " + v.type_name());
                return;
            }
            for (std::size_t i = 0; i < v.size(); ++i) single(v[i], p.type, index(path, i), owner, p.name);
            return;
        }
        single(v, p.type, path, owner, p.name);
    }

    void single(const json& v, const std::string& type, const std::string& path, const std::string& owner,
                const std::string& prop) {
        if (v.is_null()) return;
        if (is_edm(type)) return primitive(v, type, path, owner, prop);
        if (const auto* e = m.find_enum(type)) return enumeration(v, *e, path, owner, prop);
        if (type == "microsoft.graph.Json") return;  // Graph's "any JSON" complex type
        if (m.find_type(type)) return object(v, type, path);
        add(path, owner, prop, "the CSDL declares type " + type + ", which it does not define");
    }

    void primitive(const json& v, const std::string& type, const std::string& path, const std::string& owner,
                   const std::string& prop) {
        static const std::regex guid("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
        static const std::regex dto("^-?\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})$");
        static const std::regex date("^-?\\d{4}-\\d{2}-\\d{2}$");
        static const std::regex tod("^\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?$");
        static const std::regex dur("^-?P(\\d+D)?(T(\\d+H)?(\\d+M)?(\\d+(\\.\\d+)?S)?)?$");
        static const std::regex b64("^[A-Za-z0-9+/_=-]*$");
        const auto want = [&](bool ok, const std::string& what) {
            if (!ok) add(path, owner, prop, "expected " + what + " (" + type + "), got " + v.dump());
        };
        const auto str = [&](const std::regex* form, const std::string& what) {
            if (!v.is_string()) return want(false, what);
            if (form) want(std::regex_match(v.get<std::string>(), *form), what);
        };
        if (type == "Edm.String") return want(v.is_string(), "a string");
        if (type == "Edm.Boolean") return want(v.is_boolean(), "a boolean");
        if (type == "Edm.Int16" || type == "Edm.Int32" || type == "Edm.Int64" || type == "Edm.Byte" ||
            type == "Edm.SByte")
            return want(v.is_number_integer(), "an integer");
        if (type == "Edm.Double" || type == "Edm.Single" || type == "Edm.Decimal")
            return want(v.is_number() || (v.is_string() && (v == "INF" || v == "-INF" || v == "NaN")), "a number");
        if (type == "Edm.Guid") return str(&guid, "a GUID string");
        if (type == "Edm.DateTimeOffset") return str(&dto, "an ISO 8601 date-time string");
        if (type == "Edm.Date") return str(&date, "a yyyy-mm-dd string");
        if (type == "Edm.TimeOfDay") return str(&tod, "an hh:mm:ss string");
        if (type == "Edm.Duration") return str(&dur, "an ISO 8601 duration string");
        if (type == "Edm.Binary") return str(&b64, "a base64 string");
        // Edm.Stream, Edm.Untyped, Edm.Geography*, ...: not checked.
    }

    void enumeration(const json& v, const csdl_enum_type& e, const std::string& path, const std::string& owner,
                     const std::string& prop) {
        if (!v.is_string()) {
            add(path, owner, prop, "expected a member name of enum " + e.name + ", got " + v.dump());
            return;
        }
        const std::string s = v.get<std::string>();
        std::vector<std::string> parts;
        if (e.flags) {
            std::stringstream ss(s);
            for (std::string part; std::getline(ss, part, ',');) {
                part.erase(0, part.find_first_not_of(' '));
                part.erase(part.find_last_not_of(' ') + 1);
                parts.push_back(part);
            }
        } else {
            parts.push_back(s);
        }
        for (const auto& part : parts)
            if (!e.members.count(part)) add(path, owner, prop, "'" + part + "' is not a member of enum " + e.name);
    }

    void object(const json& v, const std::string& declared, const std::string& path) {
        if (!v.is_object()) {
            add(path, declared, "", "expected an object of type " + declared + ", got " + v.type_name());
            return;
        }
        std::string actual = m.qualify(declared);
        const auto* t = m.find_type(actual);
        if (v.contains("@odata.type")) {
            const auto& ot = v["@odata.type"];
            const std::string name = ot.is_string() ? m.qualify(ot.get<std::string>()) : std::string();
            const auto* derived = name.empty() ? nullptr : m.find_type(name);
            if (!derived) {
                if (opts.allow_unknown_properties)
                    skip(join(path, "@odata.type") + " = " + ot.dump() + " (not a v1.0 type)");
                else
                    return add(join(path, "@odata.type"), actual, ot.dump(), "@odata.type names no type of the CSDL");
            } else if (!m.derives_from(name, actual)) {
                // The rest of the object cannot be judged against a type it does not have.
                return add(join(path, "@odata.type"), actual, ot.dump(), name + " does not derive from " + actual);
            } else {
                actual = name;
                t = derived;
            }
        } else if (t && t->abstract) {
            add(path, actual, "@odata.type",
                actual + " is abstract: the value must name its derived type in @odata.type");
        }
        if (!t) return;
        static const std::regex extension("^extension_[0-9a-fA-F]{32}_[A-Za-z0-9_]+$");
        for (auto it = v.begin(); it != v.end(); ++it) {
            const std::string& key = it.key();
            if (is_annotation(key)) continue;
            const auto p = t->all.find(key);
            if (p == t->all.end()) {
                if (t->open && (opts.honour_open_types || std::regex_match(key, extension))) continue;
                if (opts.allow_unknown_properties) {
                    skip(join(path, key) + " (not on v1.0 " + actual + ")");
                    continue;
                }
                add(join(path, key), actual, key, "no property '" + key + "' on " + actual + " or its base types");
                continue;
            }
            value(it.value(), p->second, join(path, key), actual);
        }
    }
};

std::vector<violation> csdl_model::check(const json& value, const std::string& type_name, const check_options& opts,
                                         std::vector<std::string>* skipped) const {
    walker w{*this, opts, skipped, {}};
    if (!find_type(type_name)) {
        w.add("", qualify(type_name), "", "no structured type " + qualify(type_name) + " in the CSDL");
        return w.out;
    }
    w.object(value, type_name, "");
    return w.out;
}

// ---------------------------------------------------------------------------------------------
// URLs

const csdl_operation* csdl_model::find_bound(const std::string& segment, const std::string& type,
                                             bool collection) const {
    std::string want_ns;  // set when the segment is qualified ("microsoft.graph.removePassword")
    std::string short_name = segment;
    if (const auto dot = segment.rfind('.'); dot != std::string::npos) {
        want_ns = qualify(segment);
        short_name = segment.substr(dot + 1);
    }
    auto it = ops_by_short_name_.find(short_name);
    if (it == ops_by_short_name_.end()) return nullptr;
    // The most specific binding first: the type itself, then each base type.
    std::string cur = qualify(type);
    for (int depth = 0; depth < 64 && !cur.empty(); ++depth) {
        for (auto i : it->second) {
            const auto& op = operations_[i];
            if (op.binding_type == cur && op.binding_collection == collection &&
                (want_ns.empty() || op.name == want_ns))
                return &op;
        }
        const auto* t = find_type(cur);
        cur = t ? t->base : std::string();
    }
    return nullptr;
}

std::optional<resolved_path> csdl_model::resolve(const std::string& path_in, std::string* error) const {
    const auto fail = [&](const std::string& why) -> std::optional<resolved_path> {
        if (error) *error = path_in + ": " + why;
        return std::nullopt;
    };
    std::string path = path_in.substr(0, path_in.find('?'));
    for (const char* host : {"https://graph.microsoft.com", "http://graph.microsoft.com"})
        if (starts_with(path, host)) path.erase(0, std::string(host).size());
    std::vector<std::string> segs;
    {
        std::stringstream ss(path);
        for (std::string seg; std::getline(ss, seg, '/');) {
            if (seg.empty()) continue;
            auto d = percent_decode(seg);
            if (!d) return fail("bad percent-encoding in '" + seg + "'");
            segs.push_back(*d);
        }
    }
    resolved_path r;
    if (!segs.empty() && (segs[0] == "v1.0" || segs[0] == "beta")) {
        r.version = segs[0];
        segs.erase(segs.begin());
    }
    if (segs.empty()) return fail("no resource segment");

    const auto structured_kind = [this](const std::string& type, bool collection) {
        const auto* t = find_type(type);
        if (!t) return resolved_path::kind::primitive;
        if (t->k == csdl_structured_type::kind::entity)
            return collection ? resolved_path::kind::entity_set_or_collection : resolved_path::kind::entity;
        return resolved_path::kind::complex_value;
    };

    {
        auto [name, key] = split_key(segs[0]);
        if (name == "$batch") {
            if (segs.size() != 1) return fail("$batch takes no further segments");
            r.k = resolved_path::kind::batch;
            return r;
        }
        if (auto es = entity_sets_.find(name); es != entity_sets_.end()) {
            r.type = es->second;
            r.collection = !key.has_value();
            r.k = structured_kind(r.type, r.collection);
        } else if (auto st = singletons_.find(name); st != singletons_.end()) {
            r.type = st->second;
            r.k = resolved_path::kind::entity;
        } else {
            return fail("'" + name + "' is neither an entity set nor a singleton of the EntityContainer");
        }
    }

    for (std::size_t i = 1; i < segs.size(); ++i) {
        const std::string& seg = segs[i];
        if (r.k == resolved_path::kind::operation)
            return fail("segment '" + seg + "' after the operation " + r.operation->name);
        if (r.k == resolved_path::kind::ref || r.k == resolved_path::kind::count || r.k == resolved_path::kind::value)
            return fail("segment '" + seg + "' after " + segs[i - 1]);
        if (seg == "$ref" || seg == "$count" || seg == "$value") {
            r.k = seg == "$ref"     ? resolved_path::kind::ref
                  : seg == "$count" ? resolved_path::kind::count
                                    : resolved_path::kind::value;
            continue;
        }
        auto [name, key] = split_key(seg);
        // A type cast: "microsoft.graph.directoryRole" on a directoryObject collection.
        if (name.find('.') != std::string::npos && find_type(name) && !key) {
            const std::string cast = qualify(name);
            if (!derives_from(cast, r.type))
                return fail("type cast to " + cast + ", which does not derive from " + r.type);
            r.type = cast;
            continue;
        }
        if (r.collection) {
            if (const auto* op = find_bound(name, r.type, true)) {
                r.k = resolved_path::kind::operation;
                r.operation = op;
                continue;
            }
            if (r.k == resolved_path::kind::primitive || r.k == resolved_path::kind::complex_value)
                return fail("key segment '" + seg + "' on a collection of " + r.type + " values");
            r.collection = false;  // a key: "/users/{id}", "/mailFolders/inbox" (well-known names are keys too)
            r.k = resolved_path::kind::entity;
            continue;
        }
        const auto* t = find_type(r.type);
        if (!t) return fail("segment '" + seg + "' after the primitive value of type " + r.type);
        if (auto p = t->all.find(name); p != t->all.end()) {
            r.type = p->second.type;
            r.collection = p->second.collection && !key;
            r.k = structured_kind(r.type, r.collection);
            continue;
        }
        if (const auto* op = find_bound(name, r.type, false)) {
            r.k = resolved_path::kind::operation;
            r.operation = op;
            continue;
        }
        return fail("no property, navigation property or bound operation '" + name + "' on " + r.type);
    }
    return r;
}

std::optional<body_contract> csdl_model::body_for(const std::string& method_in, const std::string& path,
                                                  std::string* error) const {
    const auto r = resolve(path, error);
    if (!r) return std::nullopt;
    const std::string method = upper(method_in);
    const auto fail = [&](const std::string& why) -> std::optional<body_contract> {
        if (error) *error = method + " " + path + ": " + why;
        return std::nullopt;
    };
    body_contract b;
    if (method == "GET" || method == "DELETE" || method == "HEAD") {
        b.why = method + " carries no body";
        return b;
    }
    switch (r->k) {
    case resolved_path::kind::batch:
        if (method != "POST") return fail("$batch is POST only");
        b.body_allowed = true;
        b.why = "JSON batch (OData $batch)";
        return b;
    case resolved_path::kind::ref:
        // Not in the CSDL: $ref is OData's own; the body is {"@odata.id": "<url>"}.
        b.body_allowed = method == "POST" || method == "PUT";
        b.why = "entity reference";
        return b;
    case resolved_path::kind::operation:
        if (!r->operation->is_action) return fail(r->operation->name + " is a function (GET), not an action");
        if (method != "POST") return fail("actions are POST only");
        b.body_allowed = !r->operation->parameters.empty();
        b.type = r->operation->parameters_type;
        b.why = "action " + r->operation->name + " bound to " + r->operation->binding_type;
        return b;
    case resolved_path::kind::entity_set_or_collection:
        if (method != "POST") return fail(method + " on a collection of " + r->type);
        b.body_allowed = true;
        b.type = r->type;
        b.why = "POST on a collection of " + r->type;
        return b;
    case resolved_path::kind::entity:
    case resolved_path::kind::complex_value:
        if (method != "PATCH" && method != "PUT") return fail(method + " on a single " + r->type + " (not an action)");
        b.body_allowed = true;
        b.type = r->type;
        b.why = method + " on " + r->type;
        return b;
    default:
        return fail("no body contract for a " +
                    std::string(r->k == resolved_path::kind::count ? "$count" : "primitive value"));
    }
}

std::vector<violation> csdl_model::check_request(const std::string& method, const std::string& path, const json& body,
                                                 const check_options& opts, std::vector<std::string>* skipped) const {
    std::vector<violation> out;
    std::string error;
    const auto b = body_for(method, path, &error);
    if (!b) {
        out.push_back({"", "", "", "request not in the v1.0 contract: " + error});
        return out;
    }
    const bool empty_body = body.is_null() || (body.is_string() && body.get<std::string>().empty());
    const auto r = resolve(path);
    if (r->k == resolved_path::kind::batch) {
        if (!body.is_object() || !body.contains("requests") || !body["requests"].is_array()) {
            out.push_back({"", "$batch", "requests", "a $batch body is {\"requests\": [...]}"});
            return out;
        }
        for (auto it = body.begin(); it != body.end(); ++it)
            if (it.key() != "requests")
                out.push_back({it.key(), "$batch", it.key(), "not a member of a JSON batch body"});
        const auto& reqs = body["requests"];
        for (std::size_t i = 0; i < reqs.size(); ++i) {
            const auto& item = reqs[i];
            const std::string at = index("requests", i);
            if (!item.is_object() || !item.contains("method") || !item["method"].is_string() || !item.contains("url") ||
                !item["url"].is_string() || !item.contains("id") || !item["id"].is_string()) {
                out.push_back({at, "$batch", "", "a batch request needs string id, method and url"});
                continue;
            }
            for (auto it = item.begin(); it != item.end(); ++it) {
                static const std::set<std::string> members = {"id",      "method",    "url",           "body",
                                                              "headers", "dependsOn", "atomicityGroup"};
                if (!members.count(it.key()))
                    out.push_back({join(at, it.key()), "$batch", it.key(), "not a member of a batch request"});
            }
            std::string url = item["url"].get<std::string>();
            if (starts_with(url, "http")) {
                out.push_back({join(at, "url"), "$batch", "url", "batch URLs are relative"});
                continue;
            }
            if (!url.empty() && url[0] == '/') url.erase(0, 1);
            const std::string inner_path = "/" + (r->version.empty() ? std::string() : r->version + "/") + url;
            const json inner_body = item.contains("body") ? item["body"] : json(nullptr);
            auto inner = check_request(item["method"].get<std::string>(), inner_path, inner_body, opts, skipped);
            for (auto& v : inner)
                if (starts_with(v.message, "request not in the v1.0 contract"))
                    v.path = "url";
                else
                    v.path = v.path.empty() ? "body" : "body." + v.path;
            append_under(out, std::move(inner), at);
        }
        return out;
    }
    if (!b->body_allowed) {
        const bool empty_object = body.is_object() && body.empty();
        if (!empty_body && !(r->k == resolved_path::kind::operation && empty_object))
            out.push_back({"", b->type, "", b->why + ": no body expected, got " + body.dump().substr(0, 200)});
        return out;
    }
    if (empty_body) {
        out.push_back({"", b->type, "", b->why + ": a body is required"});
        return out;
    }
    if (r->k == resolved_path::kind::ref) {
        if (!body.is_object() || !body.contains("@odata.id") || body.size() != 1)
            out.push_back({"", "$ref", "", "a reference body is exactly {\"@odata.id\": \"...\"}"});
        return out;
    }
    return check(body, b->type, opts, skipped);
}

std::vector<violation> csdl_model::check_response(const std::string& method, const std::string& path, const json& body,
                                                  const check_options& opts, std::vector<std::string>* skipped,
                                                  const json& batch_request) const {
    std::vector<violation> out;
    std::string error;
    const auto r = resolve(path, &error);
    if (!r) {
        out.push_back({"", "", "", "path not in the v1.0 contract: " + error});
        return out;
    }
    if (body.is_null()) return out;  // 204
    walker w{*this, opts, skipped, {}};
    const auto collection_answer = [&](const std::string& type, bool primitive_elements) {
        if (body.is_object())
            for (auto it = body.begin(); it != body.end(); ++it)
                if (it.key() != "value" && !(starts_with(it.key(), "@") && is_annotation(it.key())))
                    w.add(it.key(), type, it.key(), "a collection answer has only value and @odata annotations");
        if (!body.is_object() || !body.contains("value") || !body["value"].is_array()) {
            w.add("", type, "value", "a collection answer is {\"value\": [...]}");
            return;
        }
        csdl_property p{"value", type, true, false};
        if (primitive_elements)
            w.value(body["value"], p, "value", "(collection of " + type + ")");
        else
            for (std::size_t i = 0; i < body["value"].size(); ++i) w.object(body["value"][i], type, index("value", i));
    };
    switch (r->k) {
    case resolved_path::kind::batch: {
        if (!body.is_object() || !body.contains("responses") || !body["responses"].is_array()) {
            w.add("", "$batch", "responses", "a $batch answer is {\"responses\": [...]}");
            break;
        }
        const auto& resps = body["responses"];
        for (std::size_t i = 0; i < resps.size(); ++i) {
            const auto& item = resps[i];
            const std::string at = index("responses", i);
            if (!item.is_object() || !item.contains("id") || !item.contains("status")) {
                w.add(at, "$batch", "", "a batch response needs id and status");
                continue;
            }
            const int status = item["status"].is_number_integer() ? item["status"].get<int>() : 0;
            if (status < 200 || status >= 300 || !item.contains("body")) continue;
            const json* req = nullptr;
            if (batch_request.is_object() && batch_request.contains("requests"))
                for (const auto& q : batch_request["requests"])
                    if (q.value("id", "") == item["id"]) req = &q;
            if (!req) {
                w.add(at, "$batch", "id", "no request with this id in the batch request");
                continue;
            }
            std::string url = req->value("url", "");
            if (!url.empty() && url[0] == '/') url.erase(0, 1);
            const std::string inner_path = "/" + (r->version.empty() ? std::string() : r->version + "/") + url;
            append_under(w.out, check_response(req->value("method", "GET"), inner_path, item["body"], opts, skipped),
                         join(at, "body"));
        }
        break;
    }
    case resolved_path::kind::operation:
        if (r->operation->returns) {
            const auto& ret = *r->operation->returns;
            if (is_edm(ret.type) || find_enum(ret.type) || ret.collection) {
                if (!body.is_object() || !body.contains("value"))
                    w.add("", ret.type, "value", "an operation's answer is {\"value\": ...}");
                else
                    w.value(body["value"], ret, "value", r->operation->name);
            } else {
                w.object(body, ret.type, "");
            }
        }
        break;
    case resolved_path::kind::entity_set_or_collection:
        if (upper(method) == "POST")
            w.object(body, r->type, "");
        else
            collection_answer(r->type, false);
        break;
    case resolved_path::kind::complex_value:
    case resolved_path::kind::primitive:
        if (r->collection)
            collection_answer(r->type, r->k == resolved_path::kind::primitive);
        else if (r->k == resolved_path::kind::complex_value)
            w.object(body, r->type, "");
        break;
    case resolved_path::kind::entity: w.object(body, r->type, ""); break;
    default: break;
    }
    return w.out;
}

const csdl_model* csdl_model::shared(const std::string& path) {
    static const std::optional<csdl_model> model = [&] {
        std::string error;
        auto m = load(path, &error);
        if (!m)
            std::cerr << "\n!!!!!!!! Graph v1.0 CSDL not loaded: " << error
                      << "\n!!!!!!!! The Graph contract is NOT being checked (set -DCONTAIND_GRAPH_CSDL=...)\n\n";
        return m;
    }();
    return model ? &*model : nullptr;
}

}  // namespace containd::test
