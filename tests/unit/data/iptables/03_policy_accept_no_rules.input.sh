iptables -P INPUT ACCEPT
iptables -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
