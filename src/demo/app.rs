//! The demo's app, keeping the better-auth preset's contract (its paths and cookie names come
//! from the preset): the start endpoint answers the IdP's URL (JSON and `Location`) and sets a signed state cookie; the callback checks it, trades
//! the code, verifies the RS256 ID token against the IdP's key and sets the signed session cookie
//! (`token.signature`, percent-encoded); `get-session` answers the session or `null`; and a
//! guarded `/auth/session` answers 401 with one body for "no token" and another for "invalid".

use super::server::{Req, Resp, http_date};
use super::{CLIENT_ID, CLIENT_SECRET, Fault, PROVIDER, State, random};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

use crate::preset::{CookieRole, Preset};
use std::sync::LazyLock;

/// The paths and cookie names of the contract the demo keeps.
struct Names {
    start: String,
    callback: String,
    native: String,
    error: String,
    state_cookie: String,
    session_cookie: String,
    secure_session_cookie: String,
}

static NAMES: LazyLock<Names> = LazyLock::new(|| {
    let c = Preset::BetterAuth.contract();
    let base = format!("/{}", c.auth_base);
    let session = c
        .cookie_name(CookieRole::Session)
        .expect("a session cookie");
    Names {
        start: format!("{base}/{}", c.starts[0].path),
        callback: format!("{base}/{}/{PROVIDER}", c.callback_paths[0]),
        native: format!(
            "{base}/{}",
            c.native_path.expect("BetterAuth's session endpoint")
        ),
        error: format!("{base}/{}", c.error_path),
        state_cookie: c.cookie_name(CookieRole::State).expect("a state cookie"),
        secure_session_cookie: format!("__Secure-{session}"),
        session_cookie: session,
    }
});

pub fn handle(state: &State, req: Req) -> Resp {
    let skew = if state.lock().expect("the demo state").fault == Some(Fault::ClockSkew) {
        3600
    } else {
        0
    };
    route(state, req).with("date", &http_date(skew))
}

fn route(state: &State, req: Req) -> Resp {
    let fault = state.lock().expect("the demo state").fault;
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/") if fault == Some(Fault::RedirectLoop) => Resp::redirect(302, "/welcome"),
        ("GET", "/welcome") if fault == Some(Fault::RedirectLoop) => Resp::redirect(302, "/"),
        ("GET", "/") => Resp::html(
            200,
            "<!DOCTYPE html><html><head><title>Demo app</title></head><body><h1>Demo app</h1></body></html>",
        ),
        ("POST", p) if p == NAMES.start => sign_in(state, &req),
        ("GET", p) if p == NAMES.callback => callback(state, &req),
        ("GET", p) if p == NAMES.native => match session_of(state, &req, session_cookie(fault)) {
            Some(v) => Resp::json(200, &v),
            None => Resp::json(200, &Value::Null),
        },
        ("GET", "/auth/session") => guard(state, &req, fault),
        ("GET", p) if p == NAMES.error => Resp::html(
            200,
            format!(
                "<h1>Login failed</h1><p>{}</p>",
                req.query
                    .get("error")
                    .map(String::as_str)
                    .unwrap_or("unknown")
            ),
        ),
        _ => Resp::json(404, &json!({"message": "Not found"})),
    }
}

fn session_cookie(fault: Option<Fault>) -> &'static str {
    if fault == Some(Fault::CookiePrefix) {
        &NAMES.secure_session_cookie
    } else {
        &NAMES.session_cookie
    }
}

/// `token.signature`, percent-encoded, as BetterAuth signs its cookies.
fn signed(secret: &[u8], value: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(value.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    crate::redact::percent_encode(&format!("{value}.{sig}"))
}

/// The value inside a signed cookie, when the signature holds.
fn unsigned(secret: &[u8], cookie: &str) -> Option<String> {
    let decoded = crate::redact::percent_decode(cookie);
    let (value, _) = decoded.rsplit_once('.')?;
    (signed(secret, value) == crate::redact::percent_encode(&decoded)).then(|| value.to_string())
}

fn sign_in(state: &State, req: &Req) -> Resp {
    let body = req.json();
    if body["provider"].as_str() != Some(PROVIDER) {
        return Resp::json(
            404,
            &json!({"message": "Provider not found", "code": "PROVIDER_NOT_FOUND"}),
        );
    }
    let mut s = state.lock().expect("the demo state");
    let app = s.app.clone();
    let callback = body["callbackURL"]
        .as_str()
        .map_or_else(|| format!("{app}/"), str::to_string);
    let st = random(32);
    s.states.insert(st.clone(), callback);
    let mut url = url::Url::parse(&format!("{}/authorize", s.issuer)).expect("the IdP's URL");
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", CLIENT_ID)
        .append_pair("redirect_uri", &format!("{app}{}", NAMES.callback))
        .append_pair("scope", "openid email profile")
        .append_pair("state", &st)
        .append_pair("nonce", &random(32));
    // The state-lost fault scopes the state cookie to the sign-in path: the callback never gets it.
    let path = if s.fault == Some(Fault::StateLost) {
        NAMES.start.rsplit_once('/').map_or("/", |(dir, _)| dir)
    } else {
        "/"
    };
    let cookie = format!(
        "{}={}; Max-Age=300; Path={path}; HttpOnly; SameSite=Lax",
        NAMES.state_cookie,
        signed(&s.secret, &st)
    );
    Resp::json(200, &json!({"url": url.as_str(), "redirect": true}))
        .with("location", url.as_str())
        .with("set-cookie", &cookie)
}

fn fail(app: &str, code: &str) -> Resp {
    Resp::redirect(302, &format!("{app}{}?error={code}", NAMES.error))
}

fn callback(state: &State, req: &Req) -> Resp {
    let (app, issuer, secret, fault, modulus, exponent) = {
        let s = state.lock().expect("the demo state");
        let public = s.key.public_key();
        (
            s.app.clone(),
            s.issuer.clone(),
            s.secret.clone(),
            s.fault,
            public.modulus().big_endian_without_leading_zero().to_vec(),
            public.exponent().big_endian_without_leading_zero().to_vec(),
        )
    };
    if let Some(e) = req.query.get("error") {
        return fail(&app, e);
    }
    let Some(st) = req.query.get("state") else {
        return fail(&app, "state_not_found");
    };
    let from_cookie = req
        .cookie(&NAMES.state_cookie)
        .and_then(|c| unsigned(&secret, &c));
    if from_cookie.as_deref() != Some(st.as_str()) {
        return fail(&app, "state_mismatch");
    }
    let Some(callback_url) = state.lock().expect("the demo state").states.remove(st) else {
        return fail(&app, "state_invalid");
    };
    // Trade the code at the IdP's token endpoint, as a client does.
    let form: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair(
            "code",
            req.query
                .get("code")
                .map(String::as_str)
                .unwrap_or_default(),
        )
        .append_pair("redirect_uri", &format!("{app}{}", NAMES.callback))
        .append_pair("client_id", CLIENT_ID)
        .append_pair("client_secret", CLIENT_SECRET)
        .finish();
    let token_req = Req {
        method: "POST".into(),
        path: "/token".into(),
        body: form,
        ..Req::default()
    };
    let answer = super::idp::handle(state, token_req);
    let tokens: Value = serde_json::from_str(&answer.body).unwrap_or_default();
    let Some(id_token) = tokens["id_token"].as_str() else {
        return fail(&app, "invalid_code");
    };
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let Ok(key) =
        jsonwebtoken::DecodingKey::from_rsa_components(&b64.encode(modulus), &b64.encode(exponent))
    else {
        return fail(&app, "unable_to_get_user_info");
    };
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[CLIENT_ID]);
    validation.set_issuer(&[issuer.as_str()]);
    let Ok(data) = jsonwebtoken::decode::<Value>(id_token, &key, &validation) else {
        return fail(&app, "unable_to_get_user_info");
    };
    let claims = data.claims;
    if claims["email"].as_str().is_none() {
        return fail(&app, "email_not_found");
    }
    let token = random(32);
    state
        .lock()
        .expect("the demo state")
        .sessions
        .insert(token.clone(), claims);
    let name = session_cookie(fault);
    let secure = if name.starts_with("__Secure-") && fault != Some(Fault::CookiePrefix) {
        "; Secure"
    } else {
        ""
    };
    Resp::redirect(302, &callback_url)
        .with(
            "set-cookie",
            &format!(
                "{}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
                NAMES.state_cookie
            ),
        )
        .with(
            "set-cookie",
            &format!(
                "{name}={}; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax{secure}",
                signed(&secret, &token)
            ),
        )
}

/// The session a signed cookie stands for, as get-session answers it.
fn session_of(state: &State, req: &Req, name: &str) -> Option<Value> {
    let s = state.lock().expect("the demo state");
    let token = unsigned(&s.secret, &req.cookie(name)?)?;
    let claims = s.sessions.get(&token)?;
    let expires = (time::OffsetDateTime::now_utc() + time::Duration::days(7))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    Some(json!({
        "session": {"id": format!("s-{}", &token[..8]), "token": token, "userId": "demo-user", "expiresAt": expires},
        "user": {"id": "demo-user", "email": claims["email"], "name": claims["name"]},
    }))
}

fn guard(state: &State, req: &Req, fault: Option<Fault>) -> Resp {
    let no_token = Resp::json(
        401,
        &json!({"error": "unauthorized", "message": "No session token"}),
    );
    let invalid = Resp::json(
        401,
        &json!({"error": "unauthorized", "message": "Invalid or expired session"}),
    );
    // The wrong-cookie-name guard was built with secure cookies on: it wants the __Secure- name.
    let name = if fault == Some(Fault::WrongCookieName) {
        NAMES.secure_session_cookie.as_str()
    } else {
        session_cookie(fault)
    };
    if req.cookie(name).is_none() {
        return no_token;
    }
    if fault == Some(Fault::GuardBearer) {
        // The founding incident: the cookie's token re-validated as `Authorization: Bearer`,
        // which the auth library ignores, so no session is ever found.
        return invalid;
    }
    match session_of(state, req, name) {
        Some(v) => Resp::json(200, &json!({"user": v["user"], "session": v["session"]})),
        None => invalid,
    }
}
