//! The WebSocket client: the handshake (over `ws://` or `wss://`, with
//! `defaults.insecure` accepting any certificate as for https), with a small
//! read buffer so that thousands of idle users stay cheap.

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

pub type Conn = WebSocketStream<MaybeTlsStream<TcpStream>>;

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

/// Opens a connection with `request` (URL, headers, cookies already set).
pub async fn handshake(request: Request, insecure: bool) -> Result<Conn, Handshake> {
    // tungstenite reserves 128 KiB per connection for reading by default;
    // idle virtual users need far less, and the buffer grows for big messages.
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0);
    let tls = request.uri().scheme_str() == Some("wss");
    let connector = match (insecure, tls) {
        (true, true) => Some(Connector::Rustls(
            super::tls::insecure_config().map_err(Handshake::Failed)?,
        )),
        _ => None,
    };
    match tokio_tungstenite::connect_async_tls_with_config(request, Some(config), true, connector)
        .await
    {
        Ok((conn, _)) => Ok(conn),
        Err(WsError::Http(resp)) => Err(Handshake::Refused(resp.status().as_u16())),
        Err(e @ WsError::Io(_)) => Err(Handshake::Unreachable(format!("cannot connect: {e}"))),
        Err(e) => Err(Handshake::Failed(format!("cannot connect: {e}"))),
    }
}
