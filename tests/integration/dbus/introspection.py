"""The org.iscsictl.target1.* interfaces of an introspection document, for
comparing the shipped XML with what the running service says."""
import xml.etree.ElementTree as ET

PREFIX = "org.iscsictl.target1."


def canonical(element):
    """A stable text form of an element: tag, sorted attributes, children in order."""
    attributes = " ".join(f'{k}="{v}"' for k, v in sorted(element.attrib.items()))
    inner = "".join(canonical(child) for child in element)
    return f"<{element.tag} {attributes}>{inner}</{element.tag}>"


def interfaces(xml_text):
    """{interface name: canonical text} for every interface of ours in the document."""
    root = ET.fromstring(xml_text)
    found = {}
    for interface in root.iter("interface"):
        name = interface.get("name", "")
        if name.startswith(PREFIX):
            found[name] = canonical(interface)
    return found
