//! The demo's OIDC provider: discovery, authorize with an HTML login form, token (client secret
//! in the body, an RS256 ID token), JWKS and userinfo.

use super::server::{Req, Resp};
use super::{CLIENT_ID, CLIENT_SECRET, Fault, PASSWORD, State, USER, random};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use serde_json::{Value, json};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub fn handle(state: &State, req: Req) -> Resp {
    let mut s = state.lock().expect("the demo state");
    let issuer = s.issuer.clone();
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/.well-known/openid-configuration") => Resp::json(
            200,
            &json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{issuer}/authorize"),
                "token_endpoint": format!("{issuer}/token"),
                "userinfo_endpoint": format!("{issuer}/userinfo"),
                "jwks_uri": format!("{issuer}/jwks"),
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "scopes_supported": ["openid", "email", "profile"],
            }),
        ),
        ("GET", "/jwks") => {
            let public = s.key.public_key();
            Resp::json(
                200,
                &json!({"keys": [{
                    "kty": "RSA", "alg": "RS256", "use": "sig", "kid": "demo",
                    "n": B64.encode(public.modulus().big_endian_without_leading_zero()),
                    "e": B64.encode(public.exponent().big_endian_without_leading_zero()),
                }]}),
            )
        }
        ("GET", "/authorize") => {
            if req.query.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
                return Resp::html(400, "<h1>invalid_client</h1>");
            }
            let rid = random(24);
            s.pending.insert(rid.clone(), req.query.clone());
            Resp::html(200, login_page(&rid, None))
        }
        ("POST", "/login") => {
            let form = req.form();
            let rid = form.get("rid").cloned().unwrap_or_default();
            let Some(request) = s.pending.get(&rid).cloned() else {
                return Resp::html(400, "<h1>invalid_request</h1><p>unknown login request</p>");
            };
            if form.get("username").map(String::as_str) != Some(USER)
                || form.get("password").map(String::as_str) != Some(PASSWORD)
            {
                return Resp::html(200, login_page(&rid, Some("Invalid username or password.")));
            }
            s.pending.remove(&rid);
            let mut claims = json!({
                "iss": issuer, "sub": "demo-user", "aud": CLIENT_ID,
                "name": "Demo User", "nonce": request.get("nonce"),
            });
            if s.fault != Some(Fault::EmailMissing) {
                claims["email"] = json!("demo@example.test");
                claims["email_verified"] = json!(true);
            }
            let code = random(43);
            let redirect_uri = request.get("redirect_uri").cloned().unwrap_or_default();
            s.codes.insert(code.clone(), (claims, redirect_uri.clone()));
            let mut to = url::Url::parse(&redirect_uri)
                .unwrap_or_else(|_| url::Url::parse(&s.app).expect("the app's URL"));
            to.query_pairs_mut()
                .append_pair("code", &code)
                .append_pair(
                    "state",
                    request.get("state").map(String::as_str).unwrap_or_default(),
                )
                .append_pair("iss", &issuer);
            Resp::redirect(303, to.as_str())
        }
        ("POST", "/token") => {
            let form = req.form();
            if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
                || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
            {
                return Resp::json(401, &json!({"error": "invalid_client"}));
            }
            let code = form.get("code").cloned().unwrap_or_default();
            let Some((claims, _)) = s.codes.remove(&code) else {
                return Resp::json(400, &json!({"error": "invalid_grant"}));
            };
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let mut id = claims.clone();
            id["iat"] = json!(now);
            id["exp"] = json!(now + 300);
            let token = sign(&s.key, &id);
            let access = random(32);
            s.codes
                .insert(format!("access:{access}"), (claims, String::new()));
            Resp::json(
                200,
                &json!({"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": token}),
            )
        }
        ("GET", "/userinfo") => {
            let access = req
                .header("authorization")
                .and_then(|a| a.strip_prefix("Bearer "))
                .unwrap_or_default();
            match s.codes.get(&format!("access:{access}")) {
                Some((claims, _)) => Resp::json(200, claims),
                None => Resp::json(401, &json!({"error": "invalid_token"})),
            }
        }
        _ => Resp::html(404, "<h1>not found</h1>"),
    }
}

fn login_page(rid: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{e}</p>"))
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html><html><head><title>Demo IdP</title></head><body><h1>Sign in to the demo IdP</h1>{error}\
         <form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"rid\" value=\"{rid}\">\
         <label>Username <input name=\"username\" autocomplete=\"username\"></label>\
         <label>Password <input type=\"password\" name=\"password\"></label>\
         <button type=\"submit\">Sign in</button></form></body></html>"
    )
}

/// An RS256 JWT.
fn sign(key: &aws_lc_rs::rsa::KeyPair, claims: &Value) -> String {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "demo"});
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let mut signature = vec![0u8; key.public_modulus_len()];
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let _ = key.sign(
        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        &rng,
        input.as_bytes(),
        &mut signature,
    );
    format!("{input}.{}", B64.encode(signature))
}
