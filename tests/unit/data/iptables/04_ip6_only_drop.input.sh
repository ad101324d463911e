ip6tables -P INPUT DROP
ip6tables -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
