//! `[[users]]`, `[authz]` and `[isolation]`: read, expanded and checked against each other and
//! against `[checks]`. Nothing unsafe is ever sent without `unsafe = true` on its row.

use super::super::access::{
    AccessSpec, AuthzRow, AuthzSpec, BUILT_IN_COLUMNS, Credential, IsolationSpec, ResourceSpec,
    UserSpec, Verdict, placeholders,
};
use super::{Expander, IntoHelp, json_of, parse_url};
use crate::redact::Secret;
use crate::scenario::error::{ScenarioError, nearest};
use crate::scenario::{CheckName, split_request};
use crate::trace::Method;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUser {
    name: Option<Spanned<String>>,
    username: Spanned<String>,
    password: Spanned<String>,
    #[serde(default)]
    vars: BTreeMap<String, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAuthz {
    #[serde(default)]
    credentials: BTreeMap<String, Spanned<RawCredential>>,
    #[serde(default)]
    row: Vec<Spanned<RawRow>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCredential {
    header: Option<Spanned<String>>,
    value: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRow {
    request: Spanned<String>,
    #[serde(default)]
    expect: BTreeMap<String, Spanned<String>>,
    json: Option<toml::Value>,
    #[serde(rename = "unsafe")]
    unsafe_: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIsolation {
    #[serde(default)]
    vars: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    resource: Vec<Spanned<RawResource>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawResource {
    request: Spanned<String>,
    #[serde(default)]
    headers: BTreeMap<String, Spanned<String>>,
    json: Option<toml::Value>,
    #[serde(rename = "unsafe")]
    unsafe_: Option<bool>,
}

/// What the raw file holds for these checks.
pub(super) struct RawAccess<'a> {
    pub users: &'a [Spanned<RawUser>],
    pub authz: Option<&'a Spanned<RawAuthz>>,
    pub isolation: Option<&'a Spanned<RawIsolation>>,
    /// Where `[checks]` asks for each check, to point at when its table is missing.
    pub asked: &'a [(CheckName, Range<usize>)],
}

fn unsafe_refused(x: &Expander, m: &Method, span: Range<usize>, what: &str) -> Box<ScenarioError> {
    x.err(
        span,
        format!(
            "`{}` changes state: this {what} is sent only with `unsafe = true`",
            m.as_str()
        ),
    )
    .into_help("add `unsafe = true` to it if the request may be sent to this app, or use GET")
}

fn vars_of(
    x: &mut Expander,
    vars: &BTreeMap<String, Spanned<String>>,
) -> Result<BTreeMap<String, String>, Box<ScenarioError>> {
    vars.iter()
        .map(|(k, v)| Ok((k.clone(), x.text(v)?.value)))
        .collect()
}

pub(super) fn access_of(
    x: &mut Expander,
    raw: RawAccess,
) -> Result<AccessSpec, Box<ScenarioError>> {
    let mut users = Vec::new();
    for u in raw.users {
        let u = u.get_ref();
        let username = x.text(&u.username)?.value;
        let name = match &u.name {
            Some(n) => x.text(n)?.value,
            None => username.clone(),
        };
        // A password is a secret wherever it comes from, even written into the file.
        let password = Secret::new(x.text(&u.password)?.value);
        users.push(UserSpec {
            name,
            username,
            password,
            vars: vars_of(x, &u.vars)?,
        });
    }

    let authz = match raw.authz {
        Some(a) => Some(authz_of(x, a, !users.is_empty())?),
        None => None,
    };
    let isolation = match raw.isolation {
        Some(i) => Some(isolation_of(x, i, &users)?),
        None => None,
    };
    for (check, span) in raw.asked {
        let missing = match check {
            CheckName::Authz if authz.is_none() => {
                Some("[checks] asks for `authz`, and there is no [authz] matrix")
            }
            CheckName::Isolation if isolation.is_none() => {
                Some("[checks] asks for `isolation`, and there is no [isolation] table")
            }
            CheckName::Isolation if users.is_empty() => {
                Some("[checks] asks for `isolation`, and there is no second user in [[users]]")
            }
            _ => None,
        };
        if let Some(msg) = missing {
            return Err(x
                .err(span.clone(), msg)
                .into_help("see docs/scenario-format.md, \"Authorization and isolation\""));
        }
    }
    Ok(AccessSpec {
        users,
        authz,
        isolation,
    })
}

fn authz_of(
    x: &mut Expander,
    a: &Spanned<RawAuthz>,
    has_other: bool,
) -> Result<AuthzSpec, Box<ScenarioError>> {
    let mut credentials = Vec::new();
    for (name, c) in &a.get_ref().credentials {
        if BUILT_IN_COLUMNS.contains(&name.as_str()) {
            return Err(x.err(
                c.span(),
                format!("`{name}` is a column of its own: name the credential otherwise"),
            ));
        }
        let c = c.get_ref();
        let header = match &c.header {
            Some(h) => x.text(h)?.value,
            None => "authorization".into(),
        };
        if header.is_empty() || !header.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            return Err(x.err(
                c.header.as_ref().map_or(c.value.span(), |h| h.span()),
                format!("`{header}` is not a header name"),
            ));
        }
        credentials.push(Credential {
            name: name.clone(),
            header,
            // A credential is a secret wherever it comes from, even written into the file.
            value: Secret::new(x.text(&c.value)?.value),
        });
    }
    let columns: Vec<String> = BUILT_IN_COLUMNS
        .iter()
        .map(|c| c.to_string())
        .chain(credentials.iter().map(|c| c.name.clone()))
        .collect();
    let mut rows = Vec::new();
    for row in &a.get_ref().row {
        let span = row.span();
        let row = row.get_ref();
        let request = x.text(&row.request)?;
        let (method, url_text) = split_request(&request.value);
        let url = parse_url(x, url_text, &request, row.request.span())?;
        if !method.is_safe_by_rfc() && row.unsafe_ != Some(true) {
            return Err(unsafe_refused(x, &method, row.request.span(), "row"));
        }
        let mut expect = Vec::new();
        for (column, verdict) in &row.expect {
            if !columns.contains(column) {
                let mut e = x.err(
                    verdict.span(),
                    format!("no column `{column}` in the matrix"),
                );
                e.help = Some(match nearest(column, columns.iter().map(String::as_str)) {
                    Some(n) => format!("did you mean `{n}`?"),
                    None => format!(
                        "the columns: {}; a credential is added under [authz.credentials]",
                        columns.join(", ")
                    ),
                });
                return Err(e);
            }
            if column == "other" && !has_other {
                return Err(x
                    .err(
                        verdict.span(),
                        "`other` is another user's session, and there is no [[users]]",
                    )
                    .into_help("add a [[users]] table with the second user's login"));
            }
            let word = x.text(verdict)?.value;
            let Some(v) = Verdict::parse(&word) else {
                return Err(x
                    .err(
                        verdict.span(),
                        format!("`{word}` is neither allow nor deny"),
                    )
                    .into_help("write \"allow\" or \"deny\""));
            };
            expect.push((column.clone(), v));
        }
        if expect.is_empty() {
            return Err(x
                .err(span, "this row expects nothing")
                .into_help("add e.g. `expect = { session = \"allow\", none = \"deny\" }`"));
        }
        let json = row
            .json
            .as_ref()
            .map(|v| json_of(x, v, row.request.span()))
            .transpose()?;
        rows.push(AuthzRow {
            method,
            url,
            json,
            expect,
        });
    }
    if rows.is_empty() {
        return Err(x
            .err(a.span(), "[authz] has no row")
            .into_help("add [[authz.row]] tables: a request, and what each credential gets"));
    }
    Ok(AuthzSpec { credentials, rows })
}

fn isolation_of(
    x: &mut Expander,
    i: &Spanned<RawIsolation>,
    users: &[UserSpec],
) -> Result<IsolationSpec, Box<ScenarioError>> {
    let vars = vars_of(x, &i.get_ref().vars)?;
    let mut resources = Vec::new();
    for r in &i.get_ref().resource {
        let r = r.get_ref();
        let request = x.text(&r.request)?;
        let (method, url) = split_request(&request.value);
        let (method, url) = (method, url.to_string());
        if !method.is_safe_by_rfc() && r.unsafe_ != Some(true) {
            return Err(unsafe_refused(x, &method, r.request.span(), "resource"));
        }
        let headers: Vec<(String, String)> = r
            .headers
            .iter()
            .map(|(k, v)| Ok((k.clone(), x.text(v)?.value)))
            .collect::<Result<_, Box<ScenarioError>>>()?;
        // Every user has a value for every name the request uses, and the request is a URL.
        let names: Vec<String> = std::iter::once(url.as_str())
            .chain(headers.iter().map(|(_, v)| v.as_str()))
            .flat_map(placeholders)
            .collect();
        let owners = std::iter::once(("[isolation] vars", &vars))
            .chain(users.iter().map(|u| (u.name.as_str(), &u.vars)));
        for (owner, values) in owners {
            if let Some(missing) = names.iter().find(|n| !values.contains_key(*n)) {
                return Err(x
                    .err(
                        r.request.span(),
                        format!("`{{{missing}}}` has no value for {owner}"),
                    )
                    .into_help(format!("add `{missing} = \"…\"` to its `vars`")));
            }
            let filled = super::super::access::fill(&url, values);
            parse_url(x, &filled, &request, r.request.span())?;
        }
        let json = r
            .json
            .as_ref()
            .map(|v| json_of(x, v, r.request.span()))
            .transpose()?;
        resources.push(ResourceSpec {
            method,
            url,
            headers,
            json,
        });
    }
    if resources.is_empty() {
        return Err(x
            .err(i.span(), "[isolation] has no resource")
            .into_help("add [[isolation.resource]] tables: a request by template, e.g. \"GET https://api.example.com/projects/{project}\""));
    }
    Ok(IsolationSpec { vars, resources })
}
