#pragma once
// The Microsoft Graph v1.0 contract, from Microsoft's own CSDL ($metadata, EDMX XML): a model of
// the entity and complex types (properties, navigation properties, base types, abstract and open
// types, collections, enums), the entity container (entity sets, singletons) and the bound
// actions, and a checker that walks a JSON value against a type.
//
// It is a test helper, deliberately independent of lib/graph and lib/sim: it knows nothing about
// what either of them sends, only what Microsoft declares.
//
//   auto model = csdl_model::load(CONTAIND_GRAPH_CSDL);
//   auto v = model->check(body, "microsoft.graph.conditionalAccessPolicy");
//   auto r = model->check_request("PATCH", "/v1.0/users/{id}", body);   // body type from the URL
//   auto s = model->check_response("/v1.0/users/{id}/memberOf", response_json);
//
// What "conforms" means here:
//  - every property name exists on the type or one of its base types (instance annotations
//    "@odata.*" / "prop@odata.*" and "@microsoft.graph.*" are always allowed);
//  - a nested object is checked against its property's complex or entity type, an array against
//    the element type, "@odata.type" selects a derived type, which must exist and derive from the
//    declared one; an abstract type needs "@odata.type";
//  - primitive values have the JSON kind of their Edm type (string, boolean, integer, number),
//    Edm.Guid / Edm.DateTimeOffset / Edm.Date strings have their lexical form, enum values are
//    members of the enum (comma-separated members for IsFlags enums); null is always accepted
//    (the CSDL's Nullable="false" is not what Graph does on the wire: it omits or nulls such
//    properties in $select-ed and partial answers).
//  - open types: Graph marks user, directoryObject, ... OpenType="true" (for directory schema
//    extensions). Taken literally that would accept any misspelling, which is the very thing we
//    check for, so by default an open type only accepts dynamic properties that look like
//    directory extensions ("extension_<appId without dashes>_<name>"); see check_options.

#include <cstddef>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace containd::test {

struct violation {
    std::string path;  // JSON path of the offending value: "conditions.users.includeUserz", "value[2].ipRanges[0]"
    std::string type;  // the type the enclosing object was checked against: "microsoft.graph.conditionalAccessUsers"
    std::string property;  // the offending property (or @odata.type value), empty when the value itself is wrong
    std::string message;
};
std::string to_string(const violation& v);
std::ostream& operator<<(std::ostream& os, const violation& v);
std::string to_string(const std::vector<violation>& vs);

struct check_options {
    // Properties absent from the v1.0 CSDL are not violations (they are listed in `skipped`), and
    // an @odata.type unknown to v1.0 is checked as the declared type. For beta answers: only the
    // properties that v1.0 knows are checked.
    bool allow_unknown_properties = false;
    // OpenType="true" accepts any dynamic property (OData's rule) instead of extension_* only.
    bool honour_open_types = false;
};

struct csdl_property {
    std::string name;
    std::string type;  // element type for collections, qualified: "microsoft.graph.passwordProfile", "Edm.String"
    bool collection = false;
    bool navigation = false;
};

struct csdl_structured_type {
    enum class kind { entity, complex, action_parameters };
    std::string name;  // qualified
    kind k = kind::entity;
    std::string base;  // qualified, or empty
    bool abstract = false;
    bool open = false;
    std::map<std::string, csdl_property> declared;  // declared on this type only
    std::map<std::string, csdl_property> all;       // with every base type's
};

struct csdl_enum_type {
    std::string name;
    bool flags = false;
    std::set<std::string> members;
};

struct csdl_operation {
    std::string name;  // qualified: "microsoft.graph.removePassword"
    bool is_action = true;
    std::string binding_type;  // qualified element type of the binding parameter
    bool binding_collection = false;
    std::vector<csdl_property> parameters;  // without the binding parameter
    std::string parameters_type;            // synthetic structured type of the parameters (actions)
    std::optional<csdl_property> returns;
};

// What a URL addresses, resolved through the entity container, navigation properties, key
// segments, type casts and bound operations.
struct resolved_path {
    enum class kind { entity_set_or_collection, entity, complex_value, operation, batch, ref, count, value, primitive };
    kind k = kind::entity;
    std::string type;  // element type for collections; the binding type for operations
    bool collection = false;
    const csdl_operation* operation = nullptr;
    std::string version;  // "v1.0", "beta" or ""
};

// The body a request must carry: none, an entity/complex type, or an action's parameters.
struct body_contract {
    bool body_allowed = false;
    std::string type;  // structured type name (may be an action's synthetic parameters type)
    std::string why;   // "PATCH on entity microsoft.graph.user", "action microsoft.graph.removePassword"
};

class csdl_model {
public:
    static std::optional<csdl_model> load(const std::string& path, std::string* error = nullptr);
    // The model at `path`, loaded once per process (the metadata is large); nullptr, after a loud
    // message on stderr, when it cannot be loaded, so the caller can skip the contract test.
    static const csdl_model* shared(const std::string& path);

    // Walks `value` against the structured type `type_name` ("microsoft.graph.user"; the
    // "graph." alias and a leading '#' are accepted). Unknown type_name: one violation.
    std::vector<violation> check(const nlohmann::json& value, const std::string& type_name,
                                 const check_options& opts = {}, std::vector<std::string>* skipped = nullptr) const;

    // Resolves "/v1.0/users/{id}/authentication/phoneMethods" (query string ignored, segments
    // percent-decoded). nullopt with *error set when the CSDL does not know the path.
    std::optional<resolved_path> resolve(const std::string& path, std::string* error = nullptr) const;

    // The body a method + path must carry (see body_contract). nullopt with *error when unknown.
    std::optional<body_contract> body_for(const std::string& method, const std::string& path,
                                          std::string* error = nullptr) const;

    // A request as sent: the body against body_for(method, path); a $batch body is checked item by
    // item ("requests[3].body.keyId"), inner URLs relative to the outer version. An empty/null body
    // where none is allowed is fine; a body where none is allowed is a violation.
    std::vector<violation> check_request(const std::string& method, const std::string& path, const nlohmann::json& body,
                                         const check_options& opts = {},
                                         std::vector<std::string>* skipped = nullptr) const;

    // A 2xx answer to GET/POST path: a collection answer must be {"value": [...]} with each item
    // checked; an entity answer is checked as the entity; an operation's answer against its return
    // type. A $batch answer checks every 2xx inner body against its request's URL (pass the
    // request body as batch_request).
    std::vector<violation> check_response(const std::string& method, const std::string& path,
                                          const nlohmann::json& body, const check_options& opts = {},
                                          std::vector<std::string>* skipped = nullptr,
                                          const nlohmann::json& batch_request = nullptr) const;

    const csdl_structured_type* find_type(const std::string& name) const;
    const csdl_enum_type* find_enum(const std::string& name) const;
    bool derives_from(const std::string& type, const std::string& base) const;  // true when equal too
    std::string qualify(const std::string& type_reference) const;               // alias -> namespace, strips '#'

    std::size_t type_count() const { return types_.size(); }
    std::size_t enum_count() const { return enums_.size(); }
    std::size_t operation_count() const { return operations_.size(); }

private:
    struct walker;
    std::map<std::string, csdl_structured_type> types_;
    std::map<std::string, csdl_enum_type> enums_;
    std::vector<csdl_operation> operations_;  // stable after load (pointers handed out)
    std::map<std::string, std::vector<std::size_t>> ops_by_short_name_;
    std::map<std::string, std::string> aliases_;      // alias -> namespace
    std::map<std::string, std::string> entity_sets_;  // name -> entity type
    std::map<std::string, std::string> singletons_;   // name -> entity type

    const csdl_operation* find_bound(const std::string& segment, const std::string& type, bool collection) const;
};

}  // namespace containd::test
