// Rich renders a message's text with a sanitizing markdown renderer:
// react-markdown never renders raw HTML, and only http(s) and mailto links
// survive; other elements are unwrapped to text.
import Markdown from "react-markdown";

const allowed = ["p", "strong", "em", "a", "ul", "ol", "li", "br", "code"];

function safeURL(url: string): string {
  return /^(https?:|mailto:)/i.test(url.trim()) ? url : "";
}

export function Rich({ text }: { text: string }) {
  return (
    <Markdown
      allowedElements={allowed}
      unwrapDisallowed
      skipHtml
      urlTransform={safeURL}
      components={{ a: ({ href, children }) => (href ? <a href={href} target="_blank" rel="noopener noreferrer nofollow ugc">{children}</a> : <>{children}</>) }}
    >
      {text}
    </Markdown>
  );
}
