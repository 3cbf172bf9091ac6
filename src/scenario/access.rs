//! The scenario's tables for the authorization and isolation checks: other users (`[[users]]`,
//! `[idp]` staying the first), the authorization matrix (`[authz]`) and the per-user resources
//! (`[isolation]`).

use crate::redact::Secret;
use crate::trace::Method;
use std::collections::BTreeMap;
use url::Url;

/// What the authorization and isolation checks need, all of it optional.
#[derive(Clone, Debug, Default)]
pub struct AccessSpec {
    /// Users besides `[idp]`'s, in order: the first is the matrix's `other`.
    pub users: Vec<UserSpec>,
    pub authz: Option<AuthzSpec>,
    pub isolation: Option<IsolationSpec>,
}

/// Another user of the chain (`[[users]]`).
#[derive(Clone, Debug)]
pub struct UserSpec {
    /// How the reports name the user (default: the username).
    pub name: String,
    pub username: String,
    pub password: Secret,
    /// The values of the resource templates' `{NAME}`s for this user.
    pub vars: BTreeMap<String, String>,
}

/// Whether a credential should get through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Allow,
    Deny,
}

impl Verdict {
    pub const NAMES: &'static [&'static str] = &["allow", "deny"];

    pub fn parse(s: &str) -> Option<Verdict> {
        match s {
            "allow" => Some(Verdict::Allow),
            "deny" => Some(Verdict::Deny),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
        }
    }
}

/// A credential of the matrix: a header sent with no cookies (a PAT, a scoped token, an API
/// key). Its value is a secret wherever it comes from.
#[derive(Clone, Debug)]
pub struct Credential {
    pub name: String,
    pub header: String,
    pub value: Secret,
}

/// The matrix's columns that are not credentials of the scenario's.
pub const BUILT_IN_COLUMNS: &[&str] = &["session", "none", "other"];

#[derive(Clone, Debug)]
pub struct AuthzSpec {
    pub credentials: Vec<Credential>,
    pub rows: Vec<AuthzRow>,
}

impl AuthzSpec {
    /// The columns in the order the matrix prints them: the session, the credentials, none,
    /// another user's session; only those some row asks for.
    pub fn columns(&self) -> Vec<String> {
        let asked = |c: &str| {
            self.rows
                .iter()
                .any(|r| r.expect.iter().any(|(n, _)| n == c))
        };
        std::iter::once("session".to_string())
            .chain(self.credentials.iter().map(|c| c.name.clone()))
            .chain(["none".to_string(), "other".to_string()])
            .filter(|c| asked(c))
            .collect()
    }
}

/// A row of the matrix: one request, and what each column should get.
#[derive(Clone, Debug)]
pub struct AuthzRow {
    pub method: Method,
    pub url: Url,
    pub json: Option<serde_json::Value>,
    pub expect: Vec<(String, Verdict)>,
}

/// A resource of each user's, by template: `{NAME}` is replaced with the user's value.
#[derive(Clone, Debug)]
pub struct ResourceSpec {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub json: Option<serde_json::Value>,
}

impl ResourceSpec {
    /// How a report names it: the method and the template.
    pub fn name(&self) -> String {
        format!("{} {}", self.method.as_str(), self.url)
    }
}

/// The resources to cross between users, and the first user's values.
#[derive(Clone, Debug)]
pub struct IsolationSpec {
    pub vars: BTreeMap<String, String>,
    pub resources: Vec<ResourceSpec>,
}

/// `{NAME}`s of a template filled from `vars`; a name without a value stays as written.
pub fn fill(template: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find('}') {
            Some(j) if vars.contains_key(&after[..j]) => {
                out.push_str(&vars[&after[..j]]);
                rest = &after[j + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{NAME}`s a template uses.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        match after.find('}') {
            Some(j)
                if j > 0
                    && after[..j]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
            {
                out.push(after[..j].to_string());
                rest = &after[j + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let vars: BTreeMap<String, String> = [
            ("tenant".to_string(), "acme".to_string()),
            ("id".to_string(), "p1".to_string()),
        ]
        .into();
        // (template, filled, its placeholders)
        let cases: &[(&str, &str, &[&str])] = &[
            ("/t/{tenant}/p/{id}", "/t/acme/p/p1", &["tenant", "id"]),
            ("/p?x={id}", "/p?x=p1", &["id"]),
            ("/{unknown}", "/{unknown}", &["unknown"]),
            ("/{ not a name }/{id}", "/{ not a name }/p1", &["id"]),
            ("/{}", "/{}", &[]),
            ("{", "{", &[]),
            ("/plain", "/plain", &[]),
        ];
        for (t, filled, names) in cases {
            assert_eq!(fill(t, &vars), *filled, "{t}");
            assert_eq!(placeholders(t), *names, "{t}");
        }
    }
}
