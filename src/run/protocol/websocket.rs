//! The WebSocket client: the handshake over a connection made as any
//! request's (`ws://` or `wss://` with the link's TLS settings and proxy,
//! `stream`), with a small read buffer so that thousands of idle users
//! stay cheap, and a bound on the size of a message.

use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::WebSocketStream;
use url::Host;

use super::stream::{Links, Purpose, Stream};

pub type Conn = WebSocketStream<Stream>;

/// Initial read buffer of a connection.
const READ_BUFFER: usize = 4 * 1024;

/// Why a handshake did not give a connection.
#[derive(Debug)]
pub enum Handshake {
    /// The server answered, with this status instead of 101.
    Refused(u16),
    /// No connection could be made (refused, reset, TLS failed).
    Unreachable(String),
    /// Anything else (a bad URL, a protocol error).
    Failed(String),
}

/// Opens a connection with `request` (URL, headers, cookies already set)
/// by `link`; messages larger than `max_message` end it.
pub async fn handshake(
    links: &Links,
    link: usize,
    request: Request,
    max_message: usize,
) -> Result<Conn, Handshake> {
    // tungstenite reserves 128 KiB per connection for reading by default;
    // idle virtual users need far less, and the buffer grows for big messages.
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(Some(max_message.max(1)))
        .max_frame_size(Some(max_message.max(1)));
    let uri = request.uri();
    let secure = uri.scheme_str() == Some("wss");
    let text = uri.host().unwrap_or_default().to_string();
    let host = match Host::parse(&text) {
        Ok(h) => h,
        Err(_) => return Err(Handshake::Failed(format!("`{text}` is not a host"))),
    };
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let host_ref = match &host {
        Host::Domain(d) => Host::Domain(d.as_str()),
        Host::Ipv4(ip) => Host::Ipv4(*ip),
        Host::Ipv6(ip) => Host::Ipv6(*ip),
    };
    let made = links
        .connect(link, &host_ref, port, secure, Purpose::WebSocket)
        .await
        .map_err(|f| Handshake::Unreachable(f.reason()))?;
    match tokio_tungstenite::client_async_with_config(request, made.stream, Some(config)).await {
        Ok((conn, _)) => Ok(conn),
        Err(WsError::Http(resp)) => Err(Handshake::Refused(resp.status().as_u16())),
        Err(WsError::Io(e)) => Err(Handshake::Unreachable(match super::tls::explain(&e) {
            // A server that wants a client certificate says so after the
            // handshake, when the first bytes are read.
            Some(why) => format!("cannot connect: TLS with {text}: {why}"),
            None => format!("cannot connect: {e}"),
        })),
        Err(e) => Err(Handshake::Failed(format!("cannot connect: {e}"))),
    }
}
